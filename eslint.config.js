// ESLint for the pages' scripts: ES modules under static/js (and static/evaluations), classic scripts where a
// file is not yet a module. Vendored libraries are not linted.
import js from "@eslint/js";
import globals from "globals";

const classicScripts = ["static/js/app.js", "static/js/editor.js"];

export default [
  { ignores: ["static/vendor/**", "node_modules/**", "staticfiles/**"] },
  js.configs.recommended,
  {
    files: ["static/**/*.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: { ...globals.browser, htmx: "readonly", Alpine: "readonly" } },
    rules: {
      "no-eval": "error",
      "no-implied-eval": "error",
      "no-new-func": "error",
      "no-unused-vars": ["error", { args: "after-used", caughtErrors: "none" }],
      eqeqeq: ["error", "smart"],
      "prefer-const": "error",
    },
  },
  { files: classicScripts, languageOptions: { sourceType: "script" } },
  { files: ["static/js/tests/**/*.js"], languageOptions: { globals: { ...globals.node } } },
];
