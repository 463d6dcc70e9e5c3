// Copy EBSI's official VCDM 1.1 JSON schemas and their examples (data, EUPL-1.2)
// from the installed npm packages into fixtures/ebsi/schemas/<package>/.
//   cd scripts/oracle && npm ci && node copy_schemas.mjs
import { cpSync, mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";

const PACKAGES = [
  "vcdm1.1-attestation-schema",
  "vcdm1.1-accreditation-schema",
  "vcdm1.1-revocation-statuslist-schema",
  "vcdm1.1-presentation-schema",
];
const index = {};
for (const name of PACKAGES) {
  const src = new URL(`node_modules/@cef-ebsi/${name}/`, import.meta.url);
  const dst = new URL(`../../fixtures/ebsi/schemas/${name}/`, import.meta.url);
  mkdirSync(dst, { recursive: true });
  for (const f of ["schema.json", "schema.metadata.json"]) cpSync(new URL(f, src), new URL(f, dst));
  if (existsSync(new URL("examples", src))) cpSync(new URL("examples", src), new URL("examples", dst), { recursive: true });
  const pkg = JSON.parse(readFileSync(new URL("package.json", src), "utf8"));
  const meta = JSON.parse(readFileSync(new URL("schema.metadata.json", src), "utf8"));
  index[name] = { npm: `@cef-ebsi/${name}@${pkg.version}`, license: pkg.license, id: meta.id };
}
writeFileSync(new URL("../../fixtures/ebsi/schemas/index.json", import.meta.url), `${JSON.stringify(index, null, 2)}\n`);
console.log(JSON.stringify(index, null, 2));
