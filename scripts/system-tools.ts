// The programs from outside node_modules that the project's scripts and tests run. Each comes from a Debian package
// that scripts/setup.sh installs (or that one of those depends on): tests/tools/install-steps.test.ts checks every
// path below against setup's package list, and fails on a path written anywhere else in the tree.
export const SYSTEM_TOOL_DEFAULTS = {
  /** Debian's Chromium: the e2e suite, the benchmark, the training kit's batch aligner. */
  chromium: '/usr/bin/chromium',
  /** Debian's Python, which has python3-torch and python3-onnx (the python3 on PATH may be another interpreter). */
  python: '/usr/bin/python3',
  /** WebKitGTK's WebDriver (webkit2gtk-driver): the WebKit e2e project. */
  webkitDriver: '/usr/bin/WebKitWebDriver',
  /** The WebKitGTK browser that WebKitWebDriver drives. */
  miniBrowser: '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser',
  /** A virtual display for WebKitGTK, which has no headless mode. */
  xvfb: '/usr/bin/Xvfb',
  /** Debian's nginx: the shipped production server configuration, run by the e2e suite. */
  nginx: '/usr/sbin/nginx',
  /** libheif's encoder: the HEIC test photo is made from a PNG fixture at test time. */
  heifEnc: '/usr/bin/heif-enc',
  /** FlatBuffers' compiler: parses the prepared face detector against the TFLite schema subsets. */
  flatc: '/usr/bin/flatc',
} as const;

export type SystemTool = keyof typeof SYSTEM_TOOL_DEFAULTS;

/** Environment overrides, for a machine that keeps a tool elsewhere. */
const OVERRIDES: Partial<Record<SystemTool, string>> = { chromium: 'CHROMIUM_PATH', python: 'FACIES_PYTHON' };

export function systemTool(tool: SystemTool): string {
  const variable = OVERRIDES[tool];
  return (variable && process.env[variable]) || SYSTEM_TOOL_DEFAULTS[tool];
}

export const CHROMIUM = systemTool('chromium');
export const PYTHON = systemTool('python');
