import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Browser, chromium } from 'playwright-core';

const DEBIAN_CHROMIUM = '/usr/bin/chromium';
/** This machine's network is closed: keep Chromium from calling out at all. */
const QUIET = ['--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * Headless Chromium for the page tests: CHROMIUM_PATH when set, else Debian's `chromium` when it
 * is installed, else the build that the `@sparticuz/chromium` devDependency ships inside its npm
 * package (so `npm install` is all a machine needs).
 */
export async function launchChromium(): Promise<Browser> {
  const installed = process.env.CHROMIUM_PATH || (existsSync(DEBIAN_CHROMIUM) ? DEBIAN_CHROMIUM : undefined);
  if (installed) {
    return chromium.launch({ executablePath: installed, headless: true, args: ['--no-sandbox', '--disable-gpu', ...QUIET] });
  }
  const packaged = packagedChromium();
  // its flags are made for serverless hosts; one browser process for everything there makes a
  // second page (the screenshot check opens one) take the whole browser down when it closes
  const args = packaged.args.filter((flag) => flag !== '--single-process');
  return chromium.launch({ executablePath: packaged.executablePath, headless: true, args: [...args, '--no-sandbox', ...QUIET] });
}

/**
 * Unpacks `@sparticuz/chromium` (once) and returns its binary and recommended flags. The package
 * unpacks into the temporary directory and reuses whatever `chromium` it finds there, even one of
 * another version, so it runs in a child process whose TMPDIR is a directory of this version's
 * own inside node_modules: nothing lands in /tmp, and versions never mix. (Inside Jest, setting
 * TMPDIR would not reach os.tmpdir(): test files see a copy of the environment.)
 */
function packagedChromium(): { executablePath: string; args: string[] } {
  const entry = require.resolve('@sparticuz/chromium');
  const root = join(dirname(entry), '..', '..');
  const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version as string;
  const unpackDir = join(root, '..', '..', '.cache', `sparticuz-chromium-${version}`);
  mkdirSync(unpackDir, { recursive: true });
  const script = `const m = require(${JSON.stringify(entry)}); const c = m.default ?? m;
    c.executablePath().then((path) => console.log(JSON.stringify({ executablePath: path, args: c.args })));`;
  const out = execFileSync(process.execPath, ['-e', script], { env: { ...process.env, TMPDIR: unpackDir }, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}
