/**
 * @module Debian's chromium, driven by playwright-core (which never downloads a browser). CI (CI=true) must have it —
 * .ci/run installs the `chromium` package — so there a missing binary fails the test; elsewhere it skips loudly.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.FERRY_CHROMIUM ?? '/usr/bin/chromium';

/** Why browser tests cannot run here, or null when they can. */
export function chromiumUnavailable(): string | null {
  if (existsSync(CHROMIUM)) return null;
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing, but CI must run the browser tests (.ci/run installs the chromium package)`);
  return `${CHROMIUM} is missing (apt-get install chromium); .ci/run installs it and CI runs these tests`;
}

export function launchChromium(): Promise<Browser> {
  // --no-sandbox: CI runs as root, where Chromium refuses its sandbox
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}
