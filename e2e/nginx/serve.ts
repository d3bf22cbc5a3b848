// Serves the production build (dist/) with real nginx and the shipped site configuration (deploy/facies-site.conf),
// on localhost, for the e2e project "nginx" (playwright.config.ts). Runs in the foreground until stopped.
//   npx tsx e2e/nginx/serve.ts <port>
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { systemTool } from '../../scripts/system-tools';

const root = resolve(import.meta.dirname, '../..');
const port = Number(process.argv[2] ?? 4175);
const prefix = mkdtempSync(join(tmpdir(), 'facies-nginx-'));
mkdirSync(join(prefix, 'logs'));
const conf = join(prefix, 'nginx.conf');
// Only what a test host needs around the shipped file: where the build is, the port, a private prefix, and the
// test model.
writeFileSync(
  conf,
  `worker_processes 1;
error_log ${prefix}/logs/error.log warn;
pid ${prefix}/nginx.pid;
events { worker_connections 256; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  server {
    listen 127.0.0.1:${port};
    server_name localhost;
    root ${join(root, process.env.FACIES_DIST ?? 'dist')};
    include ${join(root, 'deploy/facies-site.conf')};
    # The small test model is not part of a production build; the suites load it from the repository.
    location /models/test-tiny/ {
      alias ${join(root, 'models/test-tiny')}/;
      types { application/json json; application/octet-stream onnx; }
      expires -1;
    }
  }
}
`,
);
const nginx = spawn(systemTool('nginx'), ['-p', prefix, '-c', conf, '-g', 'daemon off;'], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => nginx.kill('SIGQUIT'));
nginx.on('exit', (code) => process.exit(code ?? 0));
