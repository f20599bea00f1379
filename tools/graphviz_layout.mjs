// Lay out a Graphviz DOT graph: DOT on stdin, SVG (or another Graphviz output format, such as
// "plain") on stdout. tools/diagram.py runs it.
//
//     node tools/graphviz_layout.mjs [format] [engine] < graph.dot > graph.svg
//
// Graphviz itself, compiled to WebAssembly (@hpcc-js/wasm-graphviz, pinned in package.json and
// installed by `npm ci` into the repository's node_modules/), so no system Graphviz is needed.
// A DOT error goes to stderr with exit status 1.
import { Graphviz } from "@hpcc-js/wasm-graphviz";

const [format = "svg", engine = "dot"] = process.argv.slice(2);
const chunks = [];
for await (const chunk of process.stdin) {
  chunks.push(chunk);
}
const dot = Buffer.concat(chunks).toString("utf8");
try {
  const graphviz = await Graphviz.load();
  process.stdout.write(graphviz.layout(dot, format, engine));
} catch (error) {
  process.stderr.write(`graphviz: ${error?.message ?? error}\n`);
  process.exitCode = 1;
}
