// Compiles execution/chaintest/testdata/*.sol with solc-js against the
// OpenZeppelin package installed beside it, writing {abi, bytecode} JSON
// per contract. Usage: node evm-compile.js NODE_MODULES SRC_DIR OUT_DIR
const fs = require('fs');
const path = require('path');
const [nodeModules, srcDir, outDir] = process.argv.slice(2);
const solc = require(path.join(nodeModules, 'solc'));
const sources = {};
for (const f of fs.readdirSync(srcDir).filter((f) => f.endsWith('.sol'))) {
  sources[f] = { content: fs.readFileSync(path.join(srcDir, f), 'utf8') };
}
const input = {
  language: 'Solidity',
  sources,
  settings: { optimizer: { enabled: true, runs: 200 }, outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } } },
};
const findImports = (p) => {
  const full = path.join(nodeModules, p);
  return fs.existsSync(full) ? { contents: fs.readFileSync(full, 'utf8') } : { error: 'not found: ' + p };
};
const out = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const errors = (out.errors || []).filter((e) => e.severity === 'error');
if (errors.length) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(1);
}
for (const f of Object.keys(sources)) {
  for (const [name, c] of Object.entries(out.contracts[f])) {
    fs.writeFileSync(path.join(outDir, name + '.json'), JSON.stringify({ contractName: name, compiler: 'solc ' + solc.version(), abi: c.abi, bytecode: '0x' + c.evm.bytecode.object }) + '\n');
  }
}
