/** Every page in app.json is opened by some test, and every page and component has its four files. */
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..');
const app = JSON.parse(fs.readFileSync(path.join(ROOT, 'app.json'), 'utf8'));
const tests = fs.readdirSync(__dirname).concat(fs.readdirSync(path.join(ROOT, 'test', 'components')).map((f) => `../components/${f}`))
  .filter((f) => f.endsWith('.test.js')).map((f) => fs.readFileSync(path.join(__dirname, f), 'utf8')).join('\n');

test.each(app.pages)('%s is opened by a test', (page) => {
  expect(tests).toContain(page);
});

test.each(app.pages.concat(Object.values(app.usingComponents).filter((p) => p.startsWith('/')).map((p) => p.slice(1))))(
  '%s has js, json, wxml and wxss', (base) => {
    ['js', 'json', 'wxml', 'wxss'].forEach((ext) => expect(fs.existsSync(path.join(ROOT, `${base}.${ext}`))).toBe(true));
  },
);

test('pages are built with the Component constructor (so the simulator renders them) and written in Chinese', () => {
  app.pages.forEach((page) => {
    const js = fs.readFileSync(path.join(ROOT, `${page}.js`), 'utf8');
    expect(js).toMatch(/\nComponent\(\{/);
    const json = JSON.parse(fs.readFileSync(path.join(ROOT, `${page}.json`), 'utf8'));
    expect(json.navigationBarTitleText).toMatch(/[\u4e00-\u9fa5]/);
  });
});

test('styles select components by class, never by tag (WeChat ignores tag selectors on custom components)', () => {
  const styles = [];
  const walk = (dir) => fs.readdirSync(dir, { withFileTypes: true }).forEach((entry) => {
    if (['node_modules', 'miniprogram_npm', 'test'].includes(entry.name)) return;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full);
    else if (entry.name.endsWith('.wxss')) styles.push(full);
  });
  walk(ROOT);
  expect(styles.length).toBeGreaterThan(20);
  styles.forEach((file) => {
    expect(fs.readFileSync(file, 'utf8')).not.toMatch(/(^|[\s,>+~])(van|kc)-[a-z-]+\s*[{,:]/m);
  });
});

test('every recorded API answer is used by a test (tests/contract records only what the app uses)', () => {
  const sources = [path.join(ROOT, 'test', 'utils.test.js')].concat(
    fs.readdirSync(__dirname).map((f) => path.join(__dirname, f)),
    fs.readdirSync(path.join(ROOT, 'test', 'components')).map((f) => path.join(ROOT, 'test', 'components', f)),
  ).map((file) => fs.readFileSync(file, 'utf8')).join('\n');
  const roles = ['parent', 'committee', 'manager', 'staff', 'principal', 'regulator', 'regulator_city'];
  const unused = fs.readdirSync(path.join(ROOT, 'test', 'fixtures')).map((f) => f.replace(/\.json$/, ''))
    .filter((name) => {
      if (sources.includes(`'${name}'`)) return false;
      // as(role) helpers sign in with auth_wechat_<role> and load me_<role>.
      const dynamic = /^(auth_wechat|me)_(\w+)$/.exec(name);
      return !(dynamic && roles.includes(dynamic[2]) && sources.includes(`as('${dynamic[2]}')`));
    });
  expect(unused).toEqual([]);
});
