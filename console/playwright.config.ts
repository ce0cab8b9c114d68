import { defineConfig } from '@playwright/test'

// End to end in Debian's Chromium (no browser download) against the real API started by tests/e2e/serve.sh.
const port = Number(process.env.CONSOLE_E2E_PORT ?? 5187)
/** The WeChat fake started next to the API (its /__fake__/ control API tells the tests what it was asked). */
export const wechatFake = `http://127.0.0.1:${process.env.CONSOLE_E2E_WECHAT_PORT ?? 5188}`

export default defineConfig({
  testDir: 'tests/e2e',
  outputDir: 'artifacts/test-results',
  fullyParallel: false,
  workers: 1,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    viewport: { width: 1400, height: 900 },
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      // As root (containers, CI) Chromium refuses to start with its sandbox on.
      args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
    },
  },
  webServer: {
    command: 'sh tests/e2e/serve.sh',
    url: `http://127.0.0.1:${port}/readyz`,
    env: { CONSOLE_E2E_PORT: String(port) },
    timeout: 120_000,
    reuseExistingServer: false,
  },
})
