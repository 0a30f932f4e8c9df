/**
 * Builds tiny ONNX models for tests, without Python: a hand-written subset of onnx.proto
 * (official field numbers) encoded with protobufjs. The models have the same input/output
 * signature as real Kokoro and Piper exports and produce audio that depends on their inputs, so
 * tests can check the wiring of a backend for real:
 *
 * - length: proportional to the number of token ids, divided by Kokoro's `speed` or multiplied by
 *   Piper's `length_scale`;
 * - the first samples carry the inputs back (style value, sum / first / last id, scales, speaker),
 *   scaled into [-1, 1]; the rest is a constant fill.
 */
import protobuf from 'protobufjs';

/** The subset of onnx.proto these tests need (field numbers as in the official schema). */
const ONNX_PROTO_SUBSET = `
syntax = "proto2";
package onnx;
message AttributeProto {
  optional string name = 1;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  repeated int64 ints = 8;
  optional int32 type = 20;
}
message ValueInfoProto { optional string name = 1; optional TypeProto type = 2; }
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  repeated AttributeProto attribute = 5;
}
message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  optional string name = 8;
  optional bytes raw_data = 9;
}
message TensorShapeProto {
  message Dimension { oneof value { int64 dim_value = 1; string dim_param = 2; } }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor { optional int32 elem_type = 1; optional TensorShapeProto shape = 2; }
  oneof value { Tensor tensor_type = 1; }
}
message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}
message OperatorSetIdProto { optional string domain = 1; optional int64 version = 2; }
message ModelProto {
  optional int64 ir_version = 1;
  optional string producer_name = 2;
  optional GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
}
`;

/** ONNX TensorProto.DataType values used here. */
export const OnnxType = { FLOAT: 1, INT64: 7 } as const;
/** ONNX AttributeProto.AttributeType values used here. */
const AttributeType = { FLOAT: 1, INT: 2, INTS: 7 } as const;

const modelType = protobuf.parse(ONNX_PROTO_SUBSET).root.lookupType('onnx.ModelProto');

/** A graph input or output: name, element type and dims (a number, or a name for a dynamic dim). */
export interface ValueSpec {
  name: string;
  elemType: number;
  dims: Array<number | string>;
}

/** A constant tensor baked into the model. */
export interface InitializerSpec {
  name: string;
  elemType: number;
  dims: number[];
  values: number[];
}

/** One operator. Attributes: a number is an INT unless listed in `floatAttributes`; arrays are INTS. */
export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, number | number[]>;
  floatAttributes?: string[];
}

/** A whole graph. */
export interface GraphSpec {
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  initializers: InitializerSpec[];
  nodes: NodeSpec[];
}

function valueInfo(spec: ValueSpec): object {
  return {
    name: spec.name,
    type: {
      tensorType: {
        elemType: spec.elemType,
        shape: { dim: spec.dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })) },
      },
    },
  };
}

function rawBytes(spec: InitializerSpec): Uint8Array {
  if (spec.elemType === OnnxType.FLOAT) return new Uint8Array(new Float32Array(spec.values).buffer);
  if (spec.elemType === OnnxType.INT64) return new Uint8Array(new BigInt64Array(spec.values.map((value) => BigInt(value))).buffer);
  throw new Error(`unsupported initializer type ${spec.elemType}`);
}

/** Encodes a graph as an ONNX model (IR 8, default opset 17). */
export function encodeModel(graph: GraphSpec): Uint8Array {
  const model = {
    irVersion: 8,
    producerName: 'voice-soundboard-tests',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'tiny',
      input: graph.inputs.map(valueInfo),
      output: graph.outputs.map(valueInfo),
      initializer: graph.initializers.map((spec) => ({ name: spec.name, dims: spec.dims, dataType: spec.elemType, rawData: rawBytes(spec) })),
      node: graph.nodes.map((node, index) => ({
        name: `${node.op}_${index}`,
        opType: node.op,
        input: node.inputs,
        output: node.outputs,
        attribute: Object.entries(node.attributes ?? {}).map(([name, value]) => {
          if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
          if (node.floatAttributes?.includes(name)) return { name, type: AttributeType.FLOAT, f: value };
          return { name, type: AttributeType.INT, i: value };
        }),
      })),
    },
  };
  const error = modelType.verify(model);
  if (error) throw new Error(`invalid test model: ${error}`);
  return modelType.encode(modelType.fromObject(model)).finish();
}

const scalar = (name: string, elemType: number, value: number): InitializerSpec => ({ name, elemType, dims: [], values: [value] });
const vector = (name: string, elemType: number, values: number[]): InitializerSpec => ({ name, elemType, dims: [values.length], values });

/** Scale of the id-derived header samples: sample = id * ID_SCALE. */
export const ID_SCALE = 0.001;
/** Scale of the id-sum header sample: sample = sum(ids) * ID_SUM_SCALE. */
export const ID_SUM_SCALE = 1e-6;
/** Value of every sample after the header. */
export const FILL_VALUE = 0.25;

/** Nodes computing `<prefix>_sum`, `<prefix>_first`, `<prefix>_last` (each [1], scaled) from an int64 [1, n] input. */
function idSummaryNodes(input: string, prefix: string): { nodes: NodeSpec[]; initializers: InitializerSpec[] } {
  return {
    initializers: [
      scalar(`${prefix}_zero`, OnnxType.INT64, 0),
      scalar(`${prefix}_minus_one`, OnnxType.INT64, -1),
      scalar(`${prefix}_id_scale`, OnnxType.FLOAT, ID_SCALE),
      scalar(`${prefix}_sum_scale`, OnnxType.FLOAT, ID_SUM_SCALE),
      vector(`${prefix}_shape_one`, OnnxType.INT64, [1]),
    ],
    nodes: [
      { op: 'Cast', inputs: [input], outputs: [`${prefix}_float`], attributes: { to: OnnxType.FLOAT } },
      { op: 'ReduceSum', inputs: [`${prefix}_float`], outputs: [`${prefix}_sum_raw`], attributes: { keepdims: 0 } },
      { op: 'Mul', inputs: [`${prefix}_sum_raw`, `${prefix}_sum_scale`], outputs: [`${prefix}_sum_scalar`] },
      { op: 'Reshape', inputs: [`${prefix}_sum_scalar`, `${prefix}_shape_one`], outputs: [`${prefix}_sum`] },
      { op: 'Gather', inputs: [`${prefix}_float`, `${prefix}_zero`], outputs: [`${prefix}_first_raw`], attributes: { axis: 1 } },
      { op: 'Mul', inputs: [`${prefix}_first_raw`, `${prefix}_id_scale`], outputs: [`${prefix}_first`] },
      { op: 'Gather', inputs: [`${prefix}_float`, `${prefix}_minus_one`], outputs: [`${prefix}_last_raw`], attributes: { axis: 1 } },
      { op: 'Mul', inputs: [`${prefix}_last_raw`, `${prefix}_id_scale`], outputs: [`${prefix}_last`] },
    ],
  };
}

/**
 * Nodes adding a busy chain of `repeats` [size x size] MatMuls that depends on `dependsOn` (so ORT
 * cannot fold it away) and contributes exactly 0 to `<into>` -> `<into>_busy`.
 */
function busyWorkNodes(dependsOn: string, into: string, size: number, repeats: number): { nodes: NodeSpec[]; initializers: InitializerSpec[] } {
  const nodes: NodeSpec[] = [{ op: 'Mul', inputs: ['busy_matrix', dependsOn], outputs: ['busy_0'] }];
  for (let index = 0; index < repeats; index++) nodes.push({ op: 'MatMul', inputs: [`busy_${index}`, 'busy_matrix'], outputs: [`busy_${index + 1}`] });
  nodes.push(
    { op: 'ReduceSum', inputs: [`busy_${repeats}`], outputs: ['busy_sum'], attributes: { keepdims: 0 } },
    { op: 'Mul', inputs: ['busy_sum', 'busy_zero'], outputs: ['busy_nothing'] },
    { op: 'Add', inputs: [into, 'busy_nothing'], outputs: [`${into}_busy`] },
  );
  return {
    nodes,
    initializers: [
      { name: 'busy_matrix', elemType: OnnxType.FLOAT, dims: [size, size], values: new Array<number>(size * size).fill(1 / size) },
      scalar('busy_zero', OnnxType.FLOAT, 0),
    ],
  };
}

/** Options of the tiny Kokoro-shaped model. */
export interface KokoroTestModelOptions {
  /** Output samples per input id (pads included) at speed 1. */
  samplesPerToken: number;
  /** Input names: `input_ids` (onnx-community export) or `tokens` (older kokoro-onnx export). */
  idsInputName?: 'input_ids' | 'tokens';
  /** Adds a MatMul chain so that one run takes a while (for event-loop tests). */
  busyWork?: { matrixSize: number; repeats: number };
}

/** Number of header samples the Kokoro test model writes before the fill. */
export const KOKORO_HEADER_SAMPLES = 4;

/**
 * A Kokoro-shaped model: `input_ids` int64 [1, n], `style` float32 [1, 256], `speed` float32 [1]
 * -> `waveform` float32 [floor(n * samplesPerToken / speed)] =
 * [style[0][0], sum(ids) * 1e-6, ids[0] * 1e-3, ids[n-1] * 1e-3, 0.25, 0.25, …].
 */
export function buildKokoroTestModel(options: KokoroTestModelOptions): Uint8Array {
  const idsName = options.idsInputName ?? 'input_ids';
  const ids = idSummaryNodes(idsName, 'ids');
  const busy = options.busyWork ? busyWorkNodes('speed', 'ids_sum', options.busyWork.matrixSize, options.busyWork.repeats) : undefined;
  const sumName = busy ? 'ids_sum_busy' : 'ids_sum';
  return encodeModel({
    inputs: [
      { name: idsName, elemType: OnnxType.INT64, dims: [1, 'tokens'] },
      { name: 'style', elemType: OnnxType.FLOAT, dims: [1, 256] },
      { name: 'speed', elemType: OnnxType.FLOAT, dims: [1] },
    ],
    outputs: [{ name: 'waveform', elemType: OnnxType.FLOAT, dims: ['samples'] }],
    initializers: [
      ...ids.initializers,
      ...(busy?.initializers ?? []),
      scalar('one_index', OnnxType.INT64, 1),
      scalar('samples_per_token', OnnxType.FLOAT, options.samplesPerToken),
      vector('header_length', OnnxType.INT64, [KOKORO_HEADER_SAMPLES]),
      scalar('fill_value', OnnxType.FLOAT, FILL_VALUE),
    ],
    nodes: [
      ...ids.nodes,
      ...(busy?.nodes ?? []),
      { op: 'Shape', inputs: [idsName], outputs: ['ids_shape'] },
      { op: 'Gather', inputs: ['ids_shape', 'one_index'], outputs: ['token_count'], attributes: { axis: 0 } },
      { op: 'Cast', inputs: ['token_count'], outputs: ['token_count_float'], attributes: { to: OnnxType.FLOAT } },
      { op: 'Mul', inputs: ['token_count_float', 'samples_per_token'], outputs: ['length_at_speed_one'] },
      { op: 'Div', inputs: ['length_at_speed_one', 'speed'], outputs: ['length_float'] },
      { op: 'Cast', inputs: ['length_float'], outputs: ['length'], attributes: { to: OnnxType.INT64 } },
      { op: 'Sub', inputs: ['length', 'header_length'], outputs: ['fill_length'] },
      { op: 'Expand', inputs: ['fill_value', 'fill_length'], outputs: ['fill'] },
      { op: 'Gather', inputs: ['style', 'ids_zero'], outputs: ['style_first'], attributes: { axis: 1 } },
      { op: 'Concat', inputs: ['style_first', sumName, 'ids_first', 'ids_last', 'fill'], outputs: ['waveform'], attributes: { axis: 0 } },
    ],
  });
}

/** Options of the tiny Piper-shaped model. */
export interface PiperTestModelOptions {
  /** Output samples per phoneme id at length_scale 1. */
  samplesPerId: number;
  /** Adds the `sid` input (multi-speaker voices). */
  multiSpeaker?: boolean;
}

/** Number of header samples the Piper test model writes before the fill (one more with `sid`). */
export const PIPER_HEADER_SAMPLES = 5;

/**
 * A Piper-shaped model: `input` int64 [1, n], `input_lengths` int64 [1], `scales` float32 [3]
 * (noise_scale, length_scale, noise_w), optional `sid` int64 [1] -> `output` float32
 * [1, 1, floor(input_lengths * samplesPerId * length_scale)] =
 * [noise_scale, noise_w, sum(ids) * 1e-6, ids[0] * 1e-3, ids[n-1] * 1e-3, (sid * 1e-3), 0.25, …].
 */
export function buildPiperTestModel(options: PiperTestModelOptions): Uint8Array {
  const ids = idSummaryNodes('input', 'ids');
  const header = options.multiSpeaker ? PIPER_HEADER_SAMPLES + 1 : PIPER_HEADER_SAMPLES;
  const speakerNodes: NodeSpec[] = options.multiSpeaker
    ? [
        { op: 'Cast', inputs: ['sid'], outputs: ['sid_float'], attributes: { to: OnnxType.FLOAT } },
        { op: 'Mul', inputs: ['sid_float', 'ids_id_scale'], outputs: ['sid_sample'] },
      ]
    : [];
  return encodeModel({
    inputs: [
      { name: 'input', elemType: OnnxType.INT64, dims: [1, 'phonemes'] },
      { name: 'input_lengths', elemType: OnnxType.INT64, dims: [1] },
      { name: 'scales', elemType: OnnxType.FLOAT, dims: [3] },
      ...(options.multiSpeaker ? [{ name: 'sid', elemType: OnnxType.INT64, dims: [1] }] : []),
    ],
    outputs: [{ name: 'output', elemType: OnnxType.FLOAT, dims: [1, 1, 'samples'] }],
    initializers: [
      ...ids.initializers,
      vector('noise_scale_index', OnnxType.INT64, [0]),
      scalar('length_scale_index', OnnxType.INT64, 1),
      vector('noise_w_index', OnnxType.INT64, [2]),
      scalar('samples_per_id', OnnxType.FLOAT, options.samplesPerId),
      vector('header_length', OnnxType.INT64, [header]),
      scalar('fill_value', OnnxType.FLOAT, FILL_VALUE),
      vector('output_shape', OnnxType.INT64, [1, 1, -1]),
    ],
    nodes: [
      ...ids.nodes,
      ...speakerNodes,
      { op: 'Cast', inputs: ['input_lengths'], outputs: ['lengths_float'], attributes: { to: OnnxType.FLOAT } },
      { op: 'Gather', inputs: ['scales', 'length_scale_index'], outputs: ['length_scale'], attributes: { axis: 0 } },
      { op: 'Mul', inputs: ['lengths_float', 'samples_per_id'], outputs: ['length_at_scale_one'] },
      { op: 'Mul', inputs: ['length_at_scale_one', 'length_scale'], outputs: ['length_float'] },
      { op: 'Cast', inputs: ['length_float'], outputs: ['length'], attributes: { to: OnnxType.INT64 } },
      { op: 'Sub', inputs: ['length', 'header_length'], outputs: ['fill_length'] },
      { op: 'Expand', inputs: ['fill_value', 'fill_length'], outputs: ['fill'] },
      { op: 'Gather', inputs: ['scales', 'noise_scale_index'], outputs: ['noise_scale'], attributes: { axis: 0 } },
      { op: 'Gather', inputs: ['scales', 'noise_w_index'], outputs: ['noise_w'], attributes: { axis: 0 } },
      {
        op: 'Concat',
        inputs: ['noise_scale', 'noise_w', 'ids_sum', 'ids_first', 'ids_last', ...(options.multiSpeaker ? ['sid_sample'] : []), 'fill'],
        outputs: ['flat_output'],
        attributes: { axis: 0 },
      },
      { op: 'Reshape', inputs: ['flat_output', 'output_shape'], outputs: ['output'] },
    ],
  });
}

/**
 * A Kokoro-shaped model that echoes its input: `waveform` float32 [n] = input_ids * 1e-3 (style and
 * speed declared, unused), so a test reads back every id the backend fed.
 */
export function buildKokoroEchoModel(): Uint8Array {
  return encodeModel({
    inputs: [
      { name: 'input_ids', elemType: OnnxType.INT64, dims: [1, 'tokens'] },
      { name: 'style', elemType: OnnxType.FLOAT, dims: [1, 256] },
      { name: 'speed', elemType: OnnxType.FLOAT, dims: [1] },
    ],
    outputs: [{ name: 'waveform', elemType: OnnxType.FLOAT, dims: ['samples'] }],
    initializers: [scalar('id_scale', OnnxType.FLOAT, ID_SCALE), vector('flat_shape', OnnxType.INT64, [-1])],
    nodes: [
      { op: 'Cast', inputs: ['input_ids'], outputs: ['ids_float'], attributes: { to: OnnxType.FLOAT } },
      { op: 'Mul', inputs: ['ids_float', 'id_scale'], outputs: ['ids_scaled'] },
      { op: 'Reshape', inputs: ['ids_scaled', 'flat_shape'], outputs: ['waveform'] },
    ],
  });
}

/** A Piper-shaped model that echoes its input: `output` float32 [1, 1, n] = input * 1e-3. */
export function buildPiperEchoModel(): Uint8Array {
  return encodeModel({
    inputs: [
      { name: 'input', elemType: OnnxType.INT64, dims: [1, 'phonemes'] },
      { name: 'input_lengths', elemType: OnnxType.INT64, dims: [1] },
      { name: 'scales', elemType: OnnxType.FLOAT, dims: [3] },
    ],
    outputs: [{ name: 'output', elemType: OnnxType.FLOAT, dims: [1, 1, 'samples'] }],
    initializers: [scalar('id_scale', OnnxType.FLOAT, ID_SCALE), vector('output_shape', OnnxType.INT64, [1, 1, -1])],
    nodes: [
      { op: 'Cast', inputs: ['input'], outputs: ['ids_float'], attributes: { to: OnnxType.FLOAT } },
      { op: 'Mul', inputs: ['ids_float', 'id_scale'], outputs: ['ids_scaled'] },
      { op: 'Reshape', inputs: ['ids_scaled', 'output_shape'], outputs: ['output'] },
    ],
  });
}

/** The ids an echo model's output carries (the inverse of its 1e-3 scale). */
export function echoedIds(pcm: Float32Array): number[] {
  return Array.from(pcm, (sample) => Math.round(sample / ID_SCALE));
}
