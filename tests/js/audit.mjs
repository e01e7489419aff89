// graphql-http's serverAudits against the URL given, every request with a preflight header
// (GraphQL-Require-Preflight: 1, the CSRF rule of README "Authentication"). Prints the results
// as one JSON array: [{id, name, status, reason}], status ok | warn | notice | error.
import { serverAudits } from "graphql-http";

const [url, authorization] = process.argv.slice(2);
const extra = { "GraphQL-Require-Preflight": "1" };
if (authorization) extra.Authorization = authorization;

function fetchFn(input, init = {}) {
  const headers = new Headers(init.headers);
  for (const [name, value] of Object.entries(extra)) headers.set(name, value);
  return fetch(input, { ...init, headers });
}

const results = await Promise.all(serverAudits({ url, fetchFn }).map((audit) => audit.fn()));
console.log(JSON.stringify(results.map(({ id, name, status, reason }) => ({ id, name, status, reason }))));
