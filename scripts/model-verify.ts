// npm run model:verify -- <package.facies-model.zip> [--trust <publisher public key .pem>]... [--allow-unsigned]
// Checks a package exactly as a tablet does on import (src/model/package: archive safety, schema, hashes,
// signature against the trusted keys), then runs its self-test on onnxruntime-node (CPU). Exit 0 = accepted.
import { openModelPackage, PackageRefusal } from '../src/model/package/package.ts';
import { formatFingerprint } from '../src/model/package/signature.ts';
import { fileSource, parseArgs, readTrustedKeys, selfTestOnNode, UsageError } from './model-package/node.ts';

const USAGE = 'usage: npm run model:verify -- <package> [--trust <publisher public key .pem>]... [--allow-unsigned]';

async function main(argv: string[]): Promise<number> {
  const { options, on, positional } = parseArgs(argv, ['--trust'], ['--allow-unsigned']);
  const [path] = positional;
  if (!path || positional.length > 1) throw new UsageError('give exactly one package file');
  const trustedKeys = await readTrustedKeys(options['--trust'] ?? []);
  const src = await fileSource(path);
  try {
    const opened = await openModelPackage(src, { trustedKeys, confirmUnsigned: async () => on.has('--allow-unsigned') });
    const { manifest } = opened;
    const deviation = await selfTestOnNode(manifest, opened.model);
    if (!(deviation <= manifest.selfTest.tolerance))
      throw new PackageRefusal(
        'self-test',
        `outputs differ from the expected ones by ${deviation.toExponential(2)}, more than the allowed ${manifest.selfTest.tolerance}`,
      );
    console.log(`ACCEPTED ${path}`);
    console.log(`  ${manifest.name} (${manifest.id} ${manifest.version}), created ${manifest.created}, publisher ${manifest.publisher.name}`);
    console.log(`  classes: ${manifest.classes.map((c) => c.id).join(', ')}; clinical validation: ${manifest.clinicalValidation.status}`);
    if (manifest.validation)
      console.log(`  ${manifest.validation.protocol}: accuracy ${fmt(manifest.validation.accuracy)}, macro-F1 ${fmt(manifest.validation.macroF1)}`);
    console.log(
      opened.signature.status === 'trusted'
        ? `  signed by "${opened.signature.key.label}" (${formatFingerprint(opened.signature.key.fingerprint)})`
        : '  unsigned (accepted with --allow-unsigned)',
    );
    console.log(`  self-test on onnxruntime-node: max deviation ${deviation.toExponential(2)} (tolerance ${manifest.selfTest.tolerance})`);
    return 0;
  } finally {
    await src.close();
  }
}

const fmt = (s: { mean: number; sd: number }) => `${(s.mean * 100).toFixed(1)}% ± ${(s.sd * 100).toFixed(1)}`;

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError) console.error(`model:verify: ${e.message}\n${USAGE}`);
    else if (e instanceof PackageRefusal) console.error(`REFUSED (${e.reason}): ${e.detail}`);
    else console.error(`REFUSED: ${(e as Error).message}`);
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
