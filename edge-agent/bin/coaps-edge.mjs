#!/usr/bin/env node
// The `coaps-edge` command. TypeScript runs directly through tsx (see README); a built
// package would point this at dist/ instead.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
