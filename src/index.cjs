// The CommonJS entry ("require" in package.json's exports). wharf-server is an
// ES module; Node.js 20.19+ and 22.12+ load ES modules from require() (there is
// no top-level await in the library), so this hands back the very same module
// that `import` gets: one copy, no dual-package state. Older Node.js versions
// throw ERR_REQUIRE_ESM, turned here into one line saying what to do.
"use strict";

try {
  module.exports = require("./index.js");
} catch (error) {
  if (error !== null && typeof error === "object" && error.code === "ERR_REQUIRE_ESM") {
    const message =
      `wharf-server is an ES module and this Node.js (${process.version}) does not load ES modules with require(): ` +
      `use await import("wharf-server"), or Node.js 20.19+ or 22.12+.`;
    throw Object.assign(new Error(message, { cause: error }), { code: "ERR_REQUIRE_ESM" });
  }
  throw error;
}
