// npm run model:keygen -- <name> [--algorithm Ed25519|ECDSA-P256]
// Writes <name>.key.pem (private: keep it with the person who packs models) and <name>.pub.pem (public: give it to
// every hospital's admin, who checks the printed fingerprint with you before trusting it).
import { writeFile } from 'node:fs/promises';
import { formatFingerprint, generateSigningKey, type SignatureAlgorithm } from '../src/model/package/signature.ts';
import { parseArgs, UsageError } from './model-package/node.ts';

try {
  const { options, positional } = parseArgs(process.argv.slice(2), ['--algorithm']);
  const algorithm = (options['--algorithm']?.[0] ?? 'Ed25519') as SignatureAlgorithm;
  if (positional.length !== 1 || (algorithm !== 'Ed25519' && algorithm !== 'ECDSA-P256'))
    throw new UsageError('usage: npm run model:keygen -- <name> [--algorithm Ed25519|ECDSA-P256]');
  const name = positional[0]!;
  const key = await generateSigningKey(algorithm);
  await writeFile(`${name}.key.pem`, key.privateKeyPem, { mode: 0o600, flag: 'wx' });
  await writeFile(`${name}.pub.pem`, key.publicKeyPem, { flag: 'wx' });
  console.log(`${name}.key.pem (private, keep secret) and ${name}.pub.pem (public) written.`);
  console.log(`${algorithm} key fingerprint: ${formatFingerprint(key.fingerprint)}`);
} catch (e) {
  console.error(`model:keygen: ${(e as Error).message}`);
  process.exit(e instanceof UsageError ? 2 : 1);
}
