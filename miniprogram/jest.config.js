/** Jest runs the mini-program in miniprogram-simulate on jsdom. */
module.exports = {
  testEnvironment: 'jsdom',
  testMatch: ['<rootDir>/test/**/*.test.js'],
  setupFiles: ['<rootDir>/test/helpers/setup.js'],
  setupFilesAfterEnv: ['<rootDir>/test/helpers/clock.js'],
  globalSetup: '<rootDir>/test/helpers/global-setup.js',
  modulePathIgnorePatterns: ['<rootDir>/miniprogram_npm/'],
  testTimeout: 20000,
};
