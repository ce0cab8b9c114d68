/**
 * Per test file: the simulator's globals, plus what the real runtime has and the simulator lacks
 * (getCurrentPages, Component#groupSetData which @vant/weapp uses from base library 2.4.0).
 */
require('miniprogram-simulate');

const simulateComponent = global.Component;
global.Component = (definition) => {
  definition.methods = Object.assign({
    groupSetData(callback) {
      callback();
    },
  }, definition.methods || {});
  return simulateComponent(definition);
};
global.getCurrentPages = () => [];

// The simulator runs each component's js with require() and then deletes it from require.cache so the
// next load runs it again; jest's module registry ignores require.cache, so run each in isolation.
const simulateUtils = require('miniprogram-simulate/src/utils');

simulateUtils.runJs = (filePath) => {
  jest.isolateModules(() => {
    require(filePath);
  });
};

// Speed: the simulator compiles every component's wxss (postcss + csso) on every load, and the whole
// project's wxml with the official compiler (wcc) once per test file. Both results depend only on the
// files, so they are memoised: wxss in memory, wcc's output on disk keyed by the content of every
// template, script module and component json it reads.
const simulateWxss = require('miniprogram-simulate/src/wxss');

const compiledWxss = new Map();
const compileWxss = simulateWxss.compile;
simulateWxss.compile = (wxss, options = {}) => {
  const key = `${options.prefix}\u0000${options.less ? 1 : 0}\u0000${wxss}`;
  if (!compiledWxss.has(key)) compiledWxss.set(key, compileWxss(wxss, options));
  return compiledWxss.get(key);
};

const wcc = require('miniprogram-compiler');
const { cachedWxmlToJs } = require('./wcc-cache');

const wxmlToJs = wcc.wxmlToJs;
wcc.wxmlToJs = (rootPath, compilerOptions) => cachedWxmlToJs(wxmlToJs, rootPath, compilerOptions);
