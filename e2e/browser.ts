// Command-line flags for Debian Chromium (its path: CHROMIUM in scripts/system-tools.ts), shared by playwright.config.ts,
// the e2e specs that launch their own browser, the benchmarks (scripts/bench/) and the training kit's batch aligner:
// no sandbox, and none of Chromium's own background traffic (component updates, sync, QUIC) on a network-less machine.
export function chromiumArgs({ webgpu = false } = {}): string[] {
  const args = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
  // WebGPU needs the GPU process (SwiftShader here): so no --disable-gpu in that case.
  return webgpu ? [...args, '--enable-unsafe-webgpu'] : [...args, '--disable-gpu'];
}
