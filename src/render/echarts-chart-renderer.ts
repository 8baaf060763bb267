import { renderAsync } from '@resvg/resvg-js';
import * as echarts from 'echarts';
import { formatMetricValue } from '../sources/metric-templates.ts';
import type { ChartRenderer, LineChartSpec } from '../sources/types.ts';

/** Where fonts come from and how big charts are. */
export interface EChartsChartRendererOptions {
  /** @default 800 */
  width?: number | undefined;
  /** @default 400 */
  height?: number | undefined;
  /**
   * Font files to load (TTF/OTF). With none and no system fonts, text is simply left out; the
   * lines, axes and legend markers still render.
   */
  fontFiles?: string[] | undefined;
  fontDirs?: string[] | undefined;
  /** Also use the fonts installed on the machine (fontconfig paths). @default true */
  loadSystemFonts?: boolean | undefined;
  /**
   * The family drawn for every text; the image ships `fonts-dejavu-core` for it.
   * @default "DejaVu Sans"
   */
  fontFamily?: string | undefined;
}

const DEFAULT_WIDTH = 800;
const DEFAULT_HEIGHT = 400;

/**
 * Draws line charts with ECharts' server-side SVG renderer and turns the SVG into PNG with resvg:
 * no browser, no canvas, no native build.
 */
export class EChartsChartRenderer implements ChartRenderer {
  readonly #width: number;
  readonly #height: number;
  readonly #font: {
    loadSystemFonts: boolean;
    fontFiles: string[];
    fontDirs: string[];
    defaultFontFamily: string;
    sansSerifFamily: string;
  };

  constructor(options: EChartsChartRendererOptions = {}) {
    this.#width = options.width ?? DEFAULT_WIDTH;
    this.#height = options.height ?? DEFAULT_HEIGHT;
    const family = options.fontFamily ?? 'DejaVu Sans';
    this.#font = {
      loadSystemFonts: options.loadSystemFonts ?? true,
      fontFiles: options.fontFiles ?? [],
      fontDirs: options.fontDirs ?? [],
      // ECharts writes `font-family:sans-serif`; resvg maps that generic name to Arial unless told.
      defaultFontFamily: family,
      sansSerifFamily: family,
    };
  }

  async renderLineChart(spec: LineChartSpec): Promise<Uint8Array> {
    const svg = this.renderSvg(spec);
    // renderAsync runs on libuv's pool, so a large chart does not stall Slack acknowledgements.
    const image = await renderAsync(svg, { font: this.#font, background: 'white', logLevel: 'off' });
    return new Uint8Array(image.asPng());
  }

  /** The chart as SVG text (the PNG's source), for tests and surfaces that take SVG. */
  renderSvg(spec: LineChartSpec): string {
    const width = spec.width ?? this.#width;
    const legend = legendLayout(spec, width);
    // Without an explicit height, each extra legend row adds height so the plot keeps its size.
    const height = spec.height ?? this.#height + (legend.rows - 1) * (LEGEND_ITEM_PX + legend.itemGap);
    const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
    try {
      chart.setOption(optionFor(spec, legend));
      return chart.renderToSVGString();
    } finally {
      // An undisposed instance keeps an animation timer alive and the process with it.
      chart.dispose();
    }
  }
}

/** How values are drawn on the y axis: divided by `divisor` and named `name`, e.g. bytes as MiB. */
interface AxisScale {
  divisor: number;
  name: string;
}

const BINARY_NAMES = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;
const TICK = new Intl.NumberFormat('en-US', { maximumFractionDigits: 3 });

/**
 * Picks the display unit from the largest value, so ECharts chooses round ticks in that unit
 * (100, 150, 200 MiB rather than 95.4, 143 MiB from round byte counts).
 */
export function axisScaleFor(unit: string, maxAbs: number): AxisScale | undefined {
  switch (unit) {
    case 'bytes': {
      const power =
        maxAbs > 0 ? Math.min(BINARY_NAMES.length - 1, Math.max(0, Math.floor(Math.log2(maxAbs) / 10))) : 0;
      return { divisor: 1024 ** power, name: BINARY_NAMES[power] ?? 'B' };
    }
    case 'cores':
      return maxAbs < 1 ? { divisor: 0.001, name: 'millicores' } : { divisor: 1, name: 'cores' };
    case 'ratio':
      return { divisor: 0.01, name: '%' };
    case 'percent':
      return { divisor: 1, name: '%' };
    case 'seconds':
      if (maxAbs > 0 && maxAbs < 0.001) return { divisor: 1e-6, name: 'µs' };
      return maxAbs < 1 ? { divisor: 0.001, name: 'ms' } : { divisor: 1, name: 's' };
    case 'req/s':
      return { divisor: 1, name: 'req/s' };
    default:
      // Counts and unknown units keep their values; ticks get k/M/G suffixes instead.
      return undefined;
  }
}

/**
 * Without a canvas ECharts estimates text widths from Arial-like metrics; DejaVu Sans draws about
 * 15% wider, so legend gaps grow with the label length to keep entries from touching.
 */
const ESTIMATED_CHAR_PX = 6.7;
const WIDER_FONT_SLACK = 0.15;
/** Legend symbol (25 px) plus the gap before its label (5 px), as ECharts lays them out. */
const LEGEND_ICON_PX = 30;
const LEGEND_ITEM_PX = 14;

interface LegendLayout {
  itemGap: number;
  rows: number;
}

function legendLayout(spec: LineChartSpec, width: number): LegendLayout {
  const longest = Math.max(1, ...spec.series.map((s) => s.name.length));
  const itemGap = 10 + Math.ceil(longest * ESTIMATED_CHAR_PX * WIDER_FONT_SLACK);
  // ECharts wraps the legend by its own width estimate; mirror it to know how many rows it needs.
  const perRow = Math.max(
    1,
    Math.floor((width - 10) / (longest * ESTIMATED_CHAR_PX + LEGEND_ICON_PX + itemGap)),
  );
  return { itemGap, rows: Math.max(1, Math.ceil(spec.series.length / perRow)) };
}

function optionFor(spec: LineChartSpec, legend: LegendLayout): echarts.EChartsOption {
  const maxAbs = Math.max(
    0,
    ...spec.series.flatMap((s) => s.points.map(([, v]) => (Number.isFinite(v) ? Math.abs(v) : 0))),
  );
  const scale = axisScaleFor(spec.unit, maxAbs);
  const divisor = scale?.divisor ?? 1;
  const legendHeight = legend.rows * LEGEND_ITEM_PX + (legend.rows - 1) * legend.itemGap;
  return {
    animation: false,
    // Times are shown in UTC so the same data always draws the same image, wherever it runs.
    useUTC: true,
    backgroundColor: '#ffffff',
    textStyle: { fontFamily: 'sans-serif' },
    title: { text: spec.title, left: 'center', textStyle: { fontSize: 14 } },
    legend: {
      type: 'plain',
      bottom: 0,
      itemGap: legend.itemGap,
      data: spec.series.map((s) => s.name),
    },
    grid: { left: 16, right: 40, top: 48, bottom: legendHeight + 24, containLabel: true },
    xAxis: { type: 'time', name: 'UTC', nameTextStyle: { fontSize: 10 }, axisLabel: { hideOverlap: true } },
    yAxis: {
      type: 'value',
      name: scale?.name ?? '',
      nameTextStyle: { align: 'left' },
      axisLabel: {
        formatter: (value: number) => (scale ? TICK.format(value) : formatMetricValue(value, spec.unit)),
      },
    },
    series: spec.series.map((series) => ({
      type: 'line',
      name: series.name,
      showSymbol: series.points.length < 3,
      connectNulls: false,
      lineStyle: { width: 1.5 },
      data: series.points.map(([time, value]) => [time, value / divisor]),
    })),
  };
}
