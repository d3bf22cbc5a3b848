// npm run model:pack -- <model folder> [--out <file>] [--sign-key <private key .pem>]
// Packs a trained model folder (config.json + model.onnx + MODEL_CARD.md) into one .facies-model.zip:
// computes sizes, SHA-256 and the self-test vector with onnxruntime-node, signs manifest.json if a key is given,
// then opens the result with the app's own checks before reporting success.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { draftManifest } from './models/build-manifest.ts';
import { EXPORT_FILE, optimizeModelFolder, type FolderConfig } from './models/optimize-model.ts';
import { createModelPackage, openModelPackage, PACKAGE_EXTENSION, PackageRefusal } from '../src/model/package/package.ts';
import { publicKeyOf } from '../src/model/package/signature.ts';
import { ManifestError } from '../src/model/manifest.ts';
import { fileSource, parseArgs, selfTestOnNode, UsageError } from './model-package/node.ts';

const USAGE =
  'usage: npm run model:pack -- <model folder with config.json, model.onnx (or model.export.onnx with "optimize"), MODEL_CARD.md> [--out <file>' +
  PACKAGE_EXTENSION +
  '] [--sign-key <private key .pem>]';

async function main(argv: string[]): Promise<number> {
  const { options, positional } = parseArgs(argv, ['--out', '--sign-key']);
  const [dir] = positional;
  if (!dir || positional.length > 1) throw new UsageError('give exactly one model folder');
  for (const f of ['config.json', 'MODEL_CARD.md'])
    if (!existsSync(join(dir, f))) throw new UsageError(`${join(dir, f)} is missing: the model folder needs config.json, model.onnx and MODEL_CARD.md`);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- config.json as written by hand: validateManifest checks it
  let config: Record<string, any>;
  try {
    config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
  } catch (e) {
    throw new UsageError(`${join(dir, 'config.json')} is not valid JSON (${(e as Error).message})`);
  }
  // "optimize" in the config: model.onnx is made here from the float32 export (float16 storage, drift-checked).
  const source = config.optimize ? EXPORT_FILE : 'model.onnx';
  if (!existsSync(join(dir, source)))
    throw new UsageError(
      `${join(dir, source)} is missing: ${config.optimize ? `with "optimize" in config.json the folder holds the float32 export as ${EXPORT_FILE}` : 'the model folder needs config.json, model.onnx and MODEL_CARD.md'}`,
    );
  if (config.optimize) {
    config.weights = await optimizeModelFolder(dir, config as FolderConfig);
    console.log(`model.onnx: ${config.weights.storage} weights, probabilities within ${config.weights.maxProbabilityDrift} of ${EXPORT_FILE}`);
  }
  const modelCard = await readFile(join(dir, 'MODEL_CARD.md'));
  const manifest = await draftManifest(dir, config);
  const model = await readFile(join(dir, 'model.onnx'));
  const keyPath = options['--sign-key']?.[0];
  const signingKeyPem = keyPath ? await readFile(keyPath, 'utf8') : undefined;
  const chunks = await createModelPackage({ manifest, model, modelCard, signingKeyPem });
  const out = options['--out']?.[0] ?? `${manifest.id}-${manifest.version}${PACKAGE_EXTENSION}`;
  await writeFile(out, chunks);

  // Re-open what was written, as a tablet will.
  const trusted = signingKeyPem ? [await publicKeyOf(signingKeyPem, keyPath!)] : [];
  const src = await fileSource(out);
  try {
    const opened = await openModelPackage(src, { trustedKeys: trusted, confirmUnsigned: async () => true });
    const deviation = await selfTestOnNode(opened.manifest, opened.model);
    if (!(deviation <= opened.manifest.selfTest.tolerance)) throw new Error(`self-test deviation ${deviation} on re-reading the package`);
    console.log(`${out}: ${manifest.id} ${manifest.version}, ${(src.size / 2 ** 20).toFixed(1)} MB`);
    console.log(`  model.onnx sha256 ${manifest.file.sha256}`);
    console.log(`  self-test expected ${manifest.selfTest.expected.map((p) => p.toFixed(4)).join(' ')} (tolerance ${manifest.selfTest.tolerance})`);
    console.log(
      opened.signature.status === 'trusted'
        ? `  signed (${opened.signature.key.algorithm}), key fingerprint ${opened.signature.key.fingerprint}`
        : '  unsigned: tablets will ask the admin to confirm the import',
    );
  } finally {
    await src.close();
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError) console.error(`model:pack: ${e.message}\n${USAGE}`);
    else if (e instanceof ManifestError)
      console.error(`model:pack: the model folder's config does not make a valid manifest:\n  - ${e.problems.join('\n  - ')}`);
    else if (e instanceof PackageRefusal) console.error(`model:pack: the written package does not verify (${e.reason}): ${e.detail}`);
    else console.error(`model:pack: ${(e as Error).message}`);
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
