// PostGraphile v5 (the "amber" preset) as the side-by-side benchmark's peer server: one Node
// process serving POST /graphql over the benchmark's database, as the same non-superuser role as
// the app and bound by the same row-level security.
//
// Each request's scope comes from its bearer token: an ES256 JWT signed with the benchmark's key
// (issuer and audience as the app's), whose `portal_account_ids` claim lists the caller's account
// family. PostGraphile sets it per transaction through `pgSettings`, exactly the two settings the
// app's policies read: portal.account_ids (comma-separated ids) and portal.all_accounts ('off').
// A missing or bad token gets an empty scope: the policies then admit no tenant row at all.
//
// Environment: BENCH_PG_DATABASE_URL, BENCH_PG_KEY_FILE (the JWK the benchmark signs with),
// BENCH_PG_PORT, BENCH_PG_POOL_SIZE (default 20, like the raw endpoint's pool).
import { createPublicKey, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

import { postgraphile } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

const ISSUER = "employer-health-portal";
const AUDIENCE = "employer-health-portal-api";
const LEEWAY_SECONDS = 30;

const jwk = JSON.parse(readFileSync(process.env.BENCH_PG_KEY_FILE, "utf8"));
const { d: _private, ...publicJwk } = jwk;
const publicKey = createPublicKey({ key: publicJwk, format: "jwk" });

function decodePart(part) {
  return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
}

/** The verified claims of an `Authorization: Bearer` ES256 token, or null. */
export function claimsOf(header) {
  if (typeof header !== "string" || !header.startsWith("Bearer ")) return null;
  const parts = header.slice(7).split(".");
  if (parts.length !== 3) return null;
  try {
    if (decodePart(parts[0]).alg !== "ES256") return null;
    const signed = verify(
      "sha256",
      Buffer.from(`${parts[0]}.${parts[1]}`),
      { key: publicKey, dsaEncoding: "ieee-p1363" },
      Buffer.from(parts[2], "base64url"),
    );
    if (!signed) return null;
    const claims = decodePart(parts[1]);
    const now = Date.now() / 1000;
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (claims.iss !== ISSUER || !audiences.includes(AUDIENCE)) return null;
    if (typeof claims.exp !== "number" || claims.exp + LEEWAY_SECONDS < now) return null;
    return claims;
  } catch {
    return null;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The settings the app's row-level security policies read, for this request's caller. */
function pgSettings(requestContext) {
  const claims = claimsOf(requestContext.node?.req?.headers?.authorization);
  const ids = Array.isArray(claims?.portal_account_ids)
    ? claims.portal_account_ids.filter((id) => typeof id === "string" && UUID.test(id))
    : [];
  return {
    "portal.account_ids": [...ids].sort().join(","),
    "portal.all_accounts": "off",
  };
}

const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({
      connectionString: process.env.BENCH_PG_DATABASE_URL,
      schemas: ["public"],
      pubsub: false,
      poolConfig: { max: Number(process.env.BENCH_PG_POOL_SIZE ?? 20) },
      pgSettings,
    }),
  ],
  grafserv: { graphqlPath: "/graphql", graphiql: false, watch: false },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.on("error", (error) => {
  console.error(error);
  process.exit(1);
});
serv.addTo(server).catch((error) => {
  console.error(error);
  process.exit(1);
});
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    server.close();
    pgl.release().finally(() => process.exit(0));
  });
}
const port = Number(process.env.BENCH_PG_PORT);
server.listen(port, "127.0.0.1", () => {
  console.log(`postgraphile: listening on http://127.0.0.1:${port}/graphql`);
});
