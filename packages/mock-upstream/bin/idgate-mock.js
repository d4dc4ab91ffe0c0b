#!/usr/bin/env node
// The `idgate-mock` command. This file is in the repository (not built) so
// that pnpm can link the bin on a workspace's first install, before any build
// has made dist/: a bin pointing into dist/ made every install print
// "WARN Failed to create bin … idgate-mock" for each package depending on it.
import '../dist/cli.js';
