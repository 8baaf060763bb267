import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { axisScaleFor, EChartsChartRenderer } from '../../../src/render/echarts-chart-renderer.ts';
import type { LineChartSpec } from '../../../src/sources/types.ts';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const t0 = Date.UTC(2026, 0, 1, 10, 0, 0);

function spec(values: number[], extra: Partial<LineChartSpec> = {}): LineChartSpec {
  return {
    title: 'CPU of deploy/checkout in shop',
    unit: 'cores',
    series: [
      { name: 'checkout-7d9f8-abcde', points: values.map((v, i): [number, number] => [t0 + i * 60_000, v]) },
      {
        name: 'checkout-7d9f8-fghij',
        points: values.map((v, i): [number, number] => [t0 + i * 60_000, v * 2]),
      },
    ],
    ...extra,
  };
}

/** Width and height from the IHDR chunk, which always follows the 8-byte signature. */
function dimensions(png: Uint8Array): { width: number; height: number; chunk: string } {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return {
    chunk: String.fromCharCode(...png.subarray(12, 16)),
    width: view.getUint32(16),
    height: view.getUint32(20),
  };
}

describe('EChartsChartRenderer', () => {
  it('renders a PNG of the default size', async () => {
    const png = await new EChartsChartRenderer().renderLineChart(spec([0.1, 0.25, 0.2]));
    expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    expect(dimensions(png)).toEqual({ chunk: 'IHDR', width: 800, height: 400 });
  });

  it('honours the size of the spec', async () => {
    const png = await new EChartsChartRenderer({ width: 640 }).renderLineChart(spec([1, 2], { height: 300 }));
    expect(dimensions(png)).toEqual({ chunk: 'IHDR', width: 640, height: 300 });
  });

  it('draws different data differently', async () => {
    const renderer = new EChartsChartRenderer();
    const a = await renderer.renderLineChart(spec([0.1, 0.25, 0.2]));
    const b = await renderer.renderLineChart(spec([0.9, 0.1, 0.5]));
    const again = await renderer.renderLineChart(spec([0.1, 0.25, 0.2]));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(Buffer.from(a).equals(Buffer.from(again))).toBe(true);
  });

  it('labels the y axis in the unit and names every series in the legend', () => {
    const svg = new EChartsChartRenderer().renderSvg(spec([0.1, 0.25, 0.2]));
    expect(svg).toContain('>millicores</text>');
    expect(svg).toContain('>300</text>');
    expect(svg).toContain('checkout-7d9f8-abcde');
    expect(svg).toContain('checkout-7d9f8-fghij');
    expect(svg).toContain('CPU of deploy/checkout in shop');
  });

  it('grows the default height for each extra legend row', async () => {
    const many: LineChartSpec = {
      title: 'many',
      unit: 'bytes',
      series: Array.from({ length: 10 }, (_, i) => ({
        name: `checkout-7d9f8-pod${i}`,
        points: Array.of<[number, number]>([t0, i]),
      })),
    };
    const png = await new EChartsChartRenderer().renderLineChart(many);
    expect(dimensions(png).width).toBe(800);
    expect(dimensions(png).height).toBeGreaterThan(400);
  });

  it.each([
    ['bytes', 250 * 1024 * 1024, { divisor: 1024 ** 2, name: 'MiB' }],
    ['bytes', 3 * 1024 ** 3, { divisor: 1024 ** 3, name: 'GiB' }],
    ['bytes', 0, { divisor: 1, name: 'B' }],
    ['cores', 0.5, { divisor: 0.001, name: 'millicores' }],
    ['cores', 2, { divisor: 1, name: 'cores' }],
    ['ratio', 0.1, { divisor: 0.01, name: '%' }],
    ['seconds', 0.46, { divisor: 0.001, name: 'ms' }],
    ['seconds', 0.0002, { divisor: 1e-6, name: 'µs' }],
    ['count', 5, undefined],
  ])('scales the %s axis for a maximum of %d', (unit, max, scale) => {
    expect(axisScaleFor(unit, max)).toEqual(scale);
  });

  it('renders without any font (text left out, chart still drawn)', async () => {
    const png = await new EChartsChartRenderer({ loadSystemFonts: false }).renderLineChart(spec([1, 2, 3]));
    expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    expect(dimensions(png).width).toBe(800);
  });

  it('renders an empty chart', async () => {
    const png = await new EChartsChartRenderer().renderLineChart({ title: 'nothing', unit: '', series: [] });
    expect(dimensions(png).chunk).toBe('IHDR');
  });

  it('lets the process exit after rendering (no timer left behind)', () => {
    // An undisposed ECharts instance keeps a timer that holds the process open; a child process
    // that renders and then simply ends proves none is left.
    const module = fileURLToPath(new URL('../../../src/render/echarts-chart-renderer.ts', import.meta.url));
    const script = [
      `import { EChartsChartRenderer } from ${JSON.stringify(module)};`,
      'const renderer = new EChartsChartRenderer();',
      "const png = await renderer.renderLineChart({ title: 't', unit: 'bytes', series: [{ name: 'a', points: [[0, 1], [60000, 2]] }] });",
      'console.log(png.length);',
    ].join('\n');
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(child.error?.message, 'the process did not exit on its own: a timer was left').toBeUndefined();
    expect(child.status, child.stderr).toBe(0);
    expect(Number(child.stdout.trim())).toBeGreaterThan(1000);
  }, 20_000);
});
