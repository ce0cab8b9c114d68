/** Once per jest run: build miniprogram_npm from node_modules, as WeChat DevTools' 构建 npm does. */
const { buildNpm } = require('../../scripts/build-npm');

module.exports = () => {
  buildNpm();
};
