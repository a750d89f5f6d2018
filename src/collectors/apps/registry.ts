import type { AppCollector } from './app-collector.js';
import { withCleanText } from './clean-app-text.js';
import {
  apkCollector,
  dpkgCollector,
  homebrewCollector,
  pacmanCollector,
  rpmCollector,
} from './linux-packages.js';
import { macosBundlesCollector } from './macos-bundles.js';
import { windowsProgramsCollector } from './windows-programs.js';
import { windowsUninstallCollector } from './windows-uninstall.js';

/** Every application collector, in the order they run, each with control characters kept out of its apps. */
export const APP_COLLECTORS: readonly AppCollector[] = [
  windowsProgramsCollector,
  windowsUninstallCollector,
  macosBundlesCollector,
  dpkgCollector,
  rpmCollector,
  pacmanCollector,
  apkCollector,
  homebrewCollector,
].map(withCleanText);
