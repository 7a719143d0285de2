/**
 * scripts/wat.js (`npm run wat`): the text of the emitted wasm module names every exported function, holds as many
 * functions as the module defines, with matching parentheses and block/end pairs; a byte it does not know is an error.
 * And the independent check: wabt (the WebAssembly binary toolkit, compiled to wasm; a devDependency) assembles the
 * printed text back into exactly the bytes the emitter wrote, so the text is the module, instruction for instruction.
 */
import { expect } from 'chai';
import * as path from 'path';
import { buildGemmModule } from '../../kernels/wasm/module';
import { repoRoot } from '../helpers/repo';

// the script is plain CommonJS (scripts/ is not compiled)
const { disassemble } = require(path.join(repoRoot(), 'scripts', 'wat.js')) as { disassemble(b: Uint8Array): string };

interface WasmModuleApi {
  new (bytes: Uint8Array): object;
  exports(m: object): { name: string; kind: string }[];
}
const WA = (globalThis as unknown as { WebAssembly: { Module: WasmModuleApi } }).WebAssembly;

interface Wabt {
  parseWat(
    name: string,
    text: string,
    features: Record<string, boolean>,
  ): {
    validate(): void;
    toBinary(o: { log: boolean; write_debug_names: boolean }): { buffer: Uint8Array };
    destroy(): void;
  };
}

describe('scripts/wat.js', () => {
  for (const [shared, fma] of [
    [false, false],
    [true, false],
    [false, true],
  ] as const) {
    it(`wabt assembles the text of the ${shared ? 'shared-memory' : 'plain'}${fma ? ' relaxed-fma' : ''} module back into the emitted bytes`, async () => {
      const wabt = await (require('wabt') as () => Promise<Wabt>)();
      const bytes = buildGemmModule(
        shared ? { minPages: 1, maxPages: 65536, shared: true, fma } : { minPages: 1, fma },
      );
      const mod = wabt.parseWat('kernels.wat', disassemble(bytes), {
        simd: true,
        threads: true,
        relaxed_simd: fma,
      });
      // (wabt.js's validate rejects any shared memory whatever the threads flag says, so only the plain one is validated)
      if (!shared) mod.validate();
      const back = mod.toBinary({ log: false, write_debug_names: false }).buffer;
      mod.destroy();
      expect(back.length).to.equal(bytes.length);
      expect(Buffer.from(back).equals(Buffer.from(bytes)), 'reassembled bytes differ').to.equal(true);
    });
  }

  for (const shared of [false, true]) {
    it(`disassembles the ${shared ? 'shared-memory' : 'plain'} module: every export named, every function listed`, () => {
      const bytes = buildGemmModule(shared ? { minPages: 1, maxPages: 65536, shared: true } : { minPages: 1 });
      const text = disassemble(bytes);
      const mod = new WA.Module(bytes);
      const exported = WA.Module.exports(mod)
        .filter((e) => e.kind === 'function')
        .map((e) => e.name);
      expect(exported.length).to.be.greaterThan(10);
      for (const name of exported) expect(text, name).to.contain(`(func $${name} `).and.contain(`(export "${name}")`);
      // the function count from the binary's function section (its vector length follows the section id 3 and size)
      const funcs = [...text.matchAll(/^ {2}\(func \$\w+ \(;(\d+);\)/gm)].map((m) => Number(m[1]));
      expect(funcs).to.deep.equal(funcs.map((_, i) => i));
      expect(funcs.length).to.equal(functionCount(bytes));
      expect(text.match(/\(/g)!.length).to.equal(text.match(/\)/g)!.length);
      const opens = text.match(/^\s*(block|loop|if)$/gm)!.length,
        ends = text.match(/^\s*end$/gm)!.length;
      expect(opens).to.equal(ends).and.be.greaterThan(0);
      expect(text).to.contain(shared ? '(memory 1 65536 shared)' : '(memory 1)');
      expect(text)
        .to.match(/^\s+f32x4\.mul$/m)
        .and.match(/^\s+v128\.load( |$)/m);
    });
  }

  it('the relaxed-fma module multiplies-adds with f32x4.relaxed_madd in every product function, the simd128 one never', () => {
    const fmaText = disassemble(buildGemmModule({ minPages: 1, fma: true }));
    const plainText = disassemble(buildGemmModule({ minPages: 1 }));
    expect(plainText).to.not.contain('relaxed_madd');
    // The product functions (packers, gemvRow, gemvBtRow, gemm) come first; the gate kernels after `$matmul` keep
    // their own f32x4.mul (elementwise, not products).
    const products = (text: string): string => {
      const end = text.indexOf('(func $matmul ');
      expect(end).to.be.greaterThan(0);
      return text.slice(0, end);
    };
    expect(products(fmaText))
      .to.contain('f32x4.relaxed_madd')
      .and.not.match(/^\s+f32x4\.mul$/m);
    expect(products(fmaText)).to.not.match(/^\s+f32\.mul$/m);
    expect(products(plainText))
      .to.match(/^\s+f32x4\.mul$/m)
      .and.match(/^\s+f32\.mul$/m);
    expect(fmaText.match(/relaxed_madd/g)!.length).to.be.greaterThanOrEqual(8 + 2 + 2 + 3);
  });

  it('refuses bytes that are not a module, and an opcode the emitter does not write', () => {
    expect(() => disassemble(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8))).to.throw(RangeError, /not a WebAssembly/);
    const bytes = buildGemmModule({ minPages: 1 });
    const bad = Uint8Array.from(bytes);
    const at = bad.lastIndexOf(0x0b); // the last function's final `end` becomes 0xff
    bad[at] = 0xff;
    expect(() => disassemble(bad)).to.throw(RangeError, /opcode 0xff/);
  });
});

/** The length of the function section's vector, read straight from the bytes. */
function functionCount(bytes: Uint8Array): number {
  let pos = 8;
  const u32 = (): number => {
    let n = 0,
      shift = 0,
      b: number;
    do {
      b = bytes[pos++]!;
      n += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return n;
  };
  while (pos < bytes.length) {
    const id = bytes[pos++],
      size = u32(),
      end = pos + size;
    if (id === 3) return u32();
    pos = end;
  }
  throw new Error('no function section');
}
