/**
 * A disk cache for the official wxml compiler's output (wcc takes seconds and runs once per test file).
 * The key covers every .wxml, .wxs and .json under the project (not node_modules), so any change to a
 * template, a script module or a component's usingComponents compiles again.
 */
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const CACHE_DIR = path.resolve(__dirname, '..', '..', 'node_modules', '.cache', 'kitchen-wcc');

function sourceFiles(dir, out = []) {
  fs.readdirSync(dir, { withFileTypes: true }).forEach((entry) => {
    if (entry.name === 'node_modules' || entry.name === 'test' || entry.name.startsWith('.')) return;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) sourceFiles(full, out);
    else if (/\.(wxml|wxs|json)$/.test(entry.name)) out.push(full);
  });
  return out;
}

function keyOf(rootPath, compilerOptions) {
  const hash = crypto.createHash('sha256');
  hash.update(JSON.stringify(compilerOptions || {}));
  sourceFiles(rootPath).sort().forEach((file) => {
    hash.update(path.relative(rootPath, file));
    hash.update('\u0000');
    hash.update(fs.readFileSync(file));
  });
  return hash.digest('hex').slice(0, 32);
}

function cachedWxmlToJs(compile, rootPath, compilerOptions) {
  const file = path.join(CACHE_DIR, `${keyOf(rootPath, compilerOptions)}.js`);
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8');
  const output = compile(rootPath, compilerOptions);
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  // Write then rename: two jest workers compiling at once never read half a file.
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, output);
  fs.renameSync(temp, file);
  return output;
}

module.exports = { cachedWxmlToJs };
