import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A throwaway test PKI (TEST ONLY, never trust these anywhere else). Every field is an absolute
 * file path, except `dir` (the folder holding them) and `clientPfxPassphrase`.
 */
export interface TestCertificates {
  /** Folder that holds every file below. */
  dir: string;
  /** Test CA certificate ("MQTT Test CA"): trust this to accept `serverCert`. */
  caCert: string;
  /** Test CA private key. */
  caKey: string;
  /** Server certificate, CN `localhost`, SAN `DNS:localhost, IP:127.0.0.1, IP:::1`, signed by the test CA. */
  serverCert: string;
  /** Key of `serverCert`. */
  serverKey: string;
  /** Client certificate, CN `mtls-client` (the MQTT username on the mtls listener), signed by the test CA. */
  clientCert: string;
  /** Key of `clientCert`. */
  clientKey: string;
  /** Server certificate signed by the test CA but only valid for `DNS:wrong-host.invalid`. */
  badHostCert: string;
  /** Key of `badHostCert`. */
  badHostKey: string;
  /** A second, untrusted CA ("Rogue Test CA"). */
  rogueCaCert: string;
  /** Client certificate, CN `rogue-client`, signed by the rogue CA. */
  rogueClientCert: string;
  /** Key of `rogueClientCert`. */
  rogueClientKey: string;
  /** Client certificate signed by the test CA, valid only 2020-01-01..2020-02-01 (expired). */
  expiredClientCert: string;
  /** Key of `expiredClientCert`. */
  expiredClientKey: string;
  /** PKCS#12 bundle of `clientCert` + `clientKey` + the CA certificate. */
  clientPfx: string;
  /** Passphrase of `clientPfx`. */
  clientPfxPassphrase: string;
}

const SCHEMA = 'mqtt5-test-peers-certs-v1';
const PFX_PASSPHRASE = 'test-pfx-pass';
const DAYS = 825;
const MIN_REMAINING_MS = 30 * 24 * 3600 * 1000;

const FILES = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  serverCert: 'server.crt',
  serverKey: 'server.key',
  clientCert: 'client.crt',
  clientKey: 'client.key',
  badHostCert: 'badhost.crt',
  badHostKey: 'badhost.key',
  rogueCaCert: 'rogue-ca.crt',
  rogueClientCert: 'rogue-client.crt',
  rogueClientKey: 'rogue-client.key',
  expiredClientCert: 'expired-client.crt',
  expiredClientKey: 'expired-client.key',
  clientPfx: 'client.p12',
} as const;

function openssl(): string {
  return process.env.OPENSSL_BIN ?? '/usr/bin/openssl';
}

function run(args: readonly string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(openssl(), args, { cwd, timeout: 30_000 }, (err, _stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const hint =
          code === 'ENOENT'
            ? ` (openssl not found at ${openssl()}: apt-get install -y openssl, or set OPENSSL_BIN)`
            : '';
        reject(
          new Error(`openssl ${args.slice(0, 2).join(' ')} failed${hint}: ${String(stderr).trim() || err.message}`, {
            cause: err,
          }),
        );
      } else {
        resolve();
      }
    });
  });
}

const SUBJECT_O = '/O=MQTT Test Peers (TEST ONLY)';

const SERVER_EXT = (san: string): string =>
  [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    `subjectAltName=${san}`,
    'subjectKeyIdentifier=hash',
    'authorityKeyIdentifier=keyid,issuer',
  ].join('\n') + '\n';

const CLIENT_EXT =
  [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=clientAuth',
    'subjectKeyIdentifier=hash',
    'authorityKeyIdentifier=keyid,issuer',
  ].join('\n') + '\n';

async function makeCa(dir: string, base: string, cn: string): Promise<void> {
  await run(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-sha256',
      '-days',
      String(DAYS),
      '-keyout',
      `${base}.key`,
      '-out',
      `${base}.crt`,
      '-subj',
      `${SUBJECT_O}/CN=${cn}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-addext',
      'subjectKeyIdentifier=hash',
    ],
    dir,
  );
}

async function makeLeaf(dir: string, base: string, cn: string, ca: string, ext: string): Promise<void> {
  await run(
    [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-sha256',
      '-keyout',
      `${base}.key`,
      '-out',
      `${base}.csr`,
      '-subj',
      `${SUBJECT_O}/CN=${cn}`,
    ],
    dir,
  );
  fs.writeFileSync(path.join(dir, `${base}.ext`), ext);
  const serial = `0x${crypto.randomBytes(12).toString('hex')}`;
  await run(
    [
      'x509',
      '-req',
      '-in',
      `${base}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-set_serial',
      serial,
      '-days',
      String(DAYS),
      '-sha256',
      '-extfile',
      `${base}.ext`,
      '-out',
      `${base}.crt`,
    ],
    dir,
  );
  fs.rmSync(path.join(dir, `${base}.csr`), { force: true });
  fs.rmSync(path.join(dir, `${base}.ext`), { force: true });
}

// `openssl x509 -req` (OpenSSL 3.0) cannot back-date, `openssl ca` with explicit dates can.
async function makeExpiredClient(dir: string): Promise<void> {
  const ca = fs.mkdtempSync(path.join(dir, 'ca-db-'));
  try {
    fs.mkdirSync(path.join(ca, 'new'));
    fs.writeFileSync(path.join(ca, 'index.txt'), '');
    fs.writeFileSync(path.join(ca, 'serial'), '1000\n');
    fs.writeFileSync(
      path.join(ca, 'ca.cnf'),
      [
        '[ ca ]',
        'default_ca = tca',
        '[ tca ]',
        `dir = ${ca}`,
        `database = ${ca}/index.txt`,
        `new_certs_dir = ${ca}/new`,
        `serial = ${ca}/serial`,
        'default_md = sha256',
        'policy = pol',
        'copy_extensions = none',
        'x509_extensions = ext',
        '[ pol ]',
        'organizationName = optional',
        'commonName = supplied',
        '[ ext ]',
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=clientAuth',
      ].join('\n') + '\n',
    );
    await run(
      [
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-sha256',
        '-keyout',
        'expired-client.key',
        '-out',
        path.join(ca, 'req.csr'),
        '-subj',
        `${SUBJECT_O}/CN=expired-client`,
      ],
      dir,
    );
    await run(
      [
        'ca',
        '-batch',
        '-config',
        path.join(ca, 'ca.cnf'),
        '-cert',
        'ca.crt',
        '-keyfile',
        'ca.key',
        '-startdate',
        '20200101000000Z',
        '-enddate',
        '20200201000000Z',
        '-in',
        path.join(ca, 'req.csr'),
        '-out',
        'expired-client.crt',
        '-notext',
      ],
      dir,
    );
  } finally {
    fs.rmSync(ca, { recursive: true, force: true });
  }
}

/** Generates the whole test PKI into `dir` (an empty folder). Takes about 1–2 s. */
async function generate(dir: string): Promise<void> {
  await Promise.all([makeCa(dir, 'ca', 'MQTT Test CA'), makeCa(dir, 'rogue-ca', 'Rogue Test CA')]);
  await Promise.all([
    makeLeaf(dir, 'server', 'localhost', 'ca', SERVER_EXT('DNS:localhost,IP:127.0.0.1,IP:::1')),
    makeLeaf(dir, 'client', 'mtls-client', 'ca', CLIENT_EXT),
  ]);
  await Promise.all([
    makeLeaf(dir, 'badhost', 'wrong-host.invalid', 'ca', SERVER_EXT('DNS:wrong-host.invalid')),
    makeLeaf(dir, 'rogue-client', 'rogue-client', 'rogue-ca', CLIENT_EXT),
  ]);
  await makeExpiredClient(dir);
  await run(
    [
      'pkcs12',
      '-export',
      '-in',
      'client.crt',
      '-inkey',
      'client.key',
      '-certfile',
      'ca.crt',
      '-name',
      'mtls-client',
      '-out',
      'client.p12',
      '-passout',
      `pass:${PFX_PASSPHRASE}`,
    ],
    dir,
  );
  // Test keys only: readable, so a broker that drops privileges can load them.
  for (const name of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, name), 0o644);
  fs.writeFileSync(
    path.join(dir, 'README.txt'),
    'TEST-ONLY throwaway PKI generated by @mqtt5/test-peers. Never trust these certificates or keys anywhere.\n',
  );
  fs.writeFileSync(path.join(dir, 'SCHEMA'), `${SCHEMA}\n`);
}

function describe(dir: string): TestCertificates {
  const out = { dir, clientPfxPassphrase: PFX_PASSPHRASE } as TestCertificates;
  for (const [key, file] of Object.entries(FILES))
    (out as unknown as Record<string, string>)[key] = path.join(dir, file);
  return out;
}

/** Whether `dir` holds a complete PKI of this schema, owned by us, valid for at least 30 more days. */
function usable(dir: string): boolean {
  try {
    const st = fs.statSync(dir);
    if (typeof process.getuid === 'function' && st.uid !== process.getuid()) return false;
    if (fs.readFileSync(path.join(dir, 'SCHEMA'), 'utf8').trim() !== SCHEMA) return false;
    for (const file of Object.values(FILES)) if (!fs.statSync(path.join(dir, file)).isFile()) return false;
    const limit = Date.now() + MIN_REMAINING_MS;
    for (const file of [
      FILES.caCert,
      FILES.serverCert,
      FILES.clientCert,
      FILES.badHostCert,
      FILES.rogueCaCert,
      FILES.rogueClientCert,
    ]) {
      const cert = new crypto.X509Certificate(fs.readFileSync(path.join(dir, file)));
      if (Date.parse(cert.validTo) < limit) return false;
    }
    return true;
  } catch {
    return false;
  }
}

async function obtain(): Promise<TestCertificates> {
  const explicit = process.env.MQTT5_TEST_CERTS_DIR;
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'u';
  const dir = path.resolve(explicit ?? path.join(os.tmpdir(), `mqtt5-test-peers-certs-${uid}`));
  if (usable(dir)) return describe(dir);
  const parent = path.dirname(dir);
  fs.mkdirSync(parent, { recursive: true });
  const staging = fs.mkdtempSync(path.join(parent, `${path.basename(dir)}.tmp-`));
  try {
    await generate(staging);
    // Replace a stale cache; if another process won the race with a usable one, keep theirs.
    if (!usable(dir)) {
      fs.rmSync(dir, { recursive: true, force: true });
      try {
        fs.renameSync(staging, dir);
      } catch (err) {
        if (!usable(dir)) throw err;
      }
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  if (!usable(dir)) throw new Error(`test certificates in ${dir} are incomplete after generation`);
  return describe(dir);
}

let cached: Promise<TestCertificates> | undefined;

/**
 * The test PKI (TEST ONLY). Generated once with openssl (`OPENSSL_BIN`, default `/usr/bin/openssl`)
 * into `$TMPDIR/mqtt5-test-peers-certs-<uid>` and reused by later test processes while it stays
 * valid for 30 more days (regenerated otherwise); `MQTT5_TEST_CERTS_DIR` picks another folder.
 * The promise is cached per module instance.
 */
export function getTestCertificates(): Promise<TestCertificates> {
  if (!cached) {
    cached = obtain();
    cached.catch(() => {
      cached = undefined;
    });
  }
  return cached;
}
