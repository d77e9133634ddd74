// Express 4, installed beside Express 5 as "express4": "npm:express@^4". Its API
// for what the tests use (app.use with a path, Router) is the same as 5's.
declare module "express4" {
  import express from "express";
  export default express;
}
