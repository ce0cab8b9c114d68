/** ESLint for the mini-program (WeChat runtime globals) and its jest tests and scripts (Node). */
const js = require('@eslint/js');
const globals = require('globals');

const wechat = {
  wx: 'readonly', App: 'readonly', Page: 'readonly', Component: 'readonly', Behavior: 'readonly',
  getApp: 'readonly', getCurrentPages: 'readonly', requirePlugin: 'readonly',
};

module.exports = [
  { ignores: ['node_modules/**', 'miniprogram_npm/**', 'coverage/**'] },
  js.configs.recommended,
  {
    files: ['**/*.js'],
    languageOptions: { ecmaVersion: 2020, sourceType: 'commonjs', globals: { ...globals.commonjs, ...wechat } },
    rules: {
      'no-unused-vars': ['error', { args: 'after-used', argsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-var': 'error',
      'prefer-const': 'error',
      eqeqeq: ['error', 'always'],
      'no-console': 'error',
      curly: ['error', 'multi-line'],
      'max-len': ['error', { code: 140, ignoreStrings: true, ignoreTemplateLiterals: true }],
    },
  },
  {
    files: ['test/**/*.js', 'scripts/**/*.js', 'jest.config.js', 'eslint.config.js'],
    languageOptions: { globals: { ...globals.node, ...globals.jest, ...globals.browser } },
    rules: { 'no-console': 'off' },
  },
];
