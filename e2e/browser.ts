// Debian Chromium, launched the way this network-less machine needs (see DEVELOPERS.md).
export function chromiumArgs({ webgpu = false } = {}): string[] {
  const args = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
  // WebGPU needs the GPU process (SwiftShader here): so no --disable-gpu in that case.
  return webgpu ? [...args, '--enable-unsafe-webgpu'] : [...args, '--disable-gpu'];
}
