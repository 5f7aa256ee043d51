// Copies non-TypeScript assets (Lua scripts, the admin page's files) from src/ into dist/ after tsc, keeping their paths.
const { readdirSync, statSync, mkdirSync, copyFileSync } = require('node:fs');
const { join, relative, dirname } = require('node:path');

const root = join(__dirname, '..');
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.lua') || dir.split(/[\\/]/).includes('public')) {
      const target = join(root, 'dist', relative(join(root, 'src'), path));
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(path, target);
    }
  }
}
walk(join(root, 'src'));
