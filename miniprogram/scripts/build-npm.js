#!/usr/bin/env node
/**
 * What WeChat DevTools' 「工具 → 构建 npm」 does for this project: copy each dependency's mini-program
 * build (the directory named by its package.json "miniprogram" field) into miniprogram_npm/<name>.
 * The jest run calls it too, so the tests load the very component files the app ships with.
 */
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');

function copyDir(from, to) {
  fs.mkdirSync(to, { recursive: true });
  fs.readdirSync(from, { withFileTypes: true }).forEach((entry) => {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) copyDir(source, target);
    else fs.copyFileSync(source, target);
  });
}

function buildNpm(root = ROOT) {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const built = [];
  Object.keys(pkg.dependencies || {}).forEach((name) => {
    const dir = path.join(root, 'node_modules', name);
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    if (!meta.miniprogram) return;
    const target = path.join(root, 'miniprogram_npm', name);
    const stamp = path.join(target, '.version');
    if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === meta.version) return;
    fs.rmSync(target, { recursive: true, force: true });
    copyDir(path.join(dir, meta.miniprogram), target);
    fs.writeFileSync(stamp, meta.version);
    built.push(`${name}@${meta.version}`);
  });
  return built;
}

if (require.main === module) {
  const built = buildNpm();
  console.log(built.length ? `built ${built.join(', ')}` : 'miniprogram_npm is up to date');
}

module.exports = { buildNpm };
