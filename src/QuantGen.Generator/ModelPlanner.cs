using System;
using System.Collections.Generic;
using System.Linq;
using QuantGen.Core.Artifact;

namespace QuantGen.Generator
{
    /// <summary>
    /// Turns an artifact into a <see cref="ModelPlan"/>: every decision the generated class embodies, taken here and
    /// nowhere else. Names (Run's parameters, buffers, layer methods, data members), the activation layout
    /// (<see cref="ActivationLayout"/>), Conv → MaxPool fusion (<see cref="ConvPoolFusion"/>), the thread split of large
    /// layers, the kernel each layer calls with its arguments, the weights reordered for that kernel, and the scratch
    /// the kernels share. The activation width is a parameter of each decision, not a second planner: 8-bit models
    /// call QuantGenKernels (packed weights, float32 requantization scales, NHWC where it pays), 16-bit models
    /// QuantGenWideKernels (weights as stored, fixed-point requantization, NCHW); both pass clampHigh to the requantizing
    /// kernel, which applies it (docs/artifact.md: min(y, clampHigh[m]) after requantization).
    /// </summary>
    internal sealed partial class ModelPlanner
    {
        private readonly QuantizedArtifact _artifact;
        private readonly EmitPlan _declaration;
        private readonly int _bits;
        private readonly ActivationLayout _layout;
        private readonly ConvPoolFusion _fusion;
        private readonly Dictionary<string, ArtifactTensor> _tensors;
        private readonly Dictionary<string, string> _buffers = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _floatParameters = new(StringComparer.Ordinal);
        private readonly List<BufferPlan> _fields = new();
        private readonly List<DataPlan> _data = new();
        private readonly List<DerivedDataPlan> _derived = new();
        private readonly List<string> _caches = new();
        private readonly Identifiers.UniqueNames _memberNames = new();

        private ModelPlanner(QuantizedArtifact artifact, EmitPlan declaration)
        {
            _artifact = artifact;
            _declaration = declaration;
            _bits = ActivationBitsOf(artifact);
            _layout = ActivationLayout.Choose(artifact);
            _fusion = ConvPoolFusion.Find(artifact, _layout);
            _tensors = artifact.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
            foreach (var reserved in Identifiers.ReservedMembers.Concat(new[] { "PreparePartPlanes", declaration.ClassName }))
                _memberNames.Take(reserved);
        }

        /// <summary>The plan of <paramref name="artifact"/>'s class; ArtifactFormatException for what no kernel computes.</summary>
        public static ModelPlan Plan(QuantizedArtifact artifact, EmitPlan declaration) => new ModelPlanner(artifact, declaration).Plan();

        /// <summary>
        /// 16 when the quantized tensors are i16 (the quantizer gives every activation the model's one width), else 8.
        /// A model mixing widths is refused.
        /// </summary>
        public static int ActivationBitsOf(QuantizedArtifact artifact)
        {
            if (!artifact.Tensors.Any(t => t.ElementType == ArtifactElementType.I16)) return 8;
            foreach (var t in artifact.Tensors)
                if (t.ElementType is ArtifactElementType.U8 or ArtifactElementType.I8)
                    throw new ArtifactFormatException($"Tensor '{t.Name}' is {t.ElementType} in a model with 16-bit activations: mixed widths are not supported.");
            return 16;
        }

        /// <summary>True for a model with 16-bit activations (it needs QuantGenWideKernels).</summary>
        public static bool IsWide(QuantizedArtifact artifact) => artifact.Tensors.Any(t => t.ElementType == ArtifactElementType.I16);

        private bool Wide => _bits == 16;

        private KernelLibrary Library => Wide ? KernelLibrary.WideKernels : KernelLibrary.Kernels;

        private bool SingleIo => _artifact.Inputs.Count == 1 && _artifact.Outputs.Count == 1;

        private ModelPlan Plan()
        {
            AssignParameters();
            AssignBuffers();
            var methods = _artifact.Layers.Select(l => _memberNames.Take(Identifiers.Pascal(l.Kind + "_" + l.Name), l.Name)).ToList();
            var io = PlanIo();
            var layers = _artifact.Layers.Select((l, i) => PlanLayer(l, methods[i])).ToArray();
            var scratch = PlanScratch();
            string? Meta(string key) => _artifact.GetMetadata(key);
            var header = new ModelHeader(_artifact.ModelName, Meta("source"), Meta("weightBits"), Meta("activationBits"), Meta("algorithms"),
                Meta("calibration"), Meta("calibrationSamples"), Meta("calibrationSqnrDb"));
            return new ModelPlan(_declaration, _bits, header, new(io), new(_fields.ToArray()), scratch, new(layers), new(_data.ToArray()), new(_derived.ToArray()), new(_caches.ToArray()));
        }

        private void AssignParameters()
        {
            var names = new Identifiers.UniqueNames();
            foreach (var io in _artifact.Inputs)
                _floatParameters[io.Tensor] = SingleIo ? names.Take("input") : names.Take(Identifiers.Camel(io.Name), io.Name);
            foreach (var io in _artifact.Outputs)
                _floatParameters[io.Tensor] = SingleIo ? names.Take("output") : names.Take(Identifiers.Camel(io.Name), io.Name);
        }

        /// <summary>One buffer per layer output that is not a model output; a Reshape's output aliases its input's buffer.</summary>
        private void AssignBuffers()
        {
            int index = 0;
            foreach (var layer in _artifact.Layers)
            {
                var output = layer.Outputs[0];
                if (_floatParameters.ContainsKey(output)) continue;
                if (layer.Kind == LayerKinds.Reshape && _buffers.TryGetValue(layer.Inputs[0], out var aliased))
                {
                    _buffers[output] = aliased;
                    continue;
                }
                var tensor = _tensors[output];
                var field = "_t" + CSharpLiterals.Int(index++);
                _buffers[output] = field;
                _fields.Add(new BufferPlan(field, tensor.ElementType == ArtifactElementType.F32, tensor.ElementCount, output));
            }
        }

        private IoPlan[] PlanIo() =>
            _artifact.Inputs.Select(i => (Io: i, IsInput: true)).Concat(_artifact.Outputs.Select(o => (Io: o, IsInput: false)))
                .Select(p =>
                {
                    var tensor = _tensors[p.Io.Tensor];
                    var prefix = SingleIo ? (p.IsInput ? "Input" : "Output") : _memberNames.TakeGroup(Identifiers.Pascal(p.Io.Name), p.Io.Name, "Length", "Shape");
                    return new IoPlan(p.Io.Name, p.IsInput, _floatParameters[p.Io.Tensor], prefix, tensor.Shape, tensor.ElementCount);
                })
                .ToArray();

        /// <summary>
        /// The kernels' shared scratch, sized for the most demanding layer. 16-bit: one receptive field of a Conv
        /// (QuantGenWideKernels.Conv gathers it contiguously). 8-bit: see the comments for each packed kernel.
        /// </summary>
        private ScratchPlan? PlanScratch()
        {
            if (Wide)
            {
                var convs = _artifact.Layers.Where(l => l.Kind == LayerKinds.Conv).ToList();
                return convs.Count == 0 ? null : new ScratchPlan(convs.Max(l => l.GetBlob("weights").Values.Count / l.GetBlob("weights").Shape[0]), 0, false);
            }
            var weighted = _artifact.Layers.Where(l => l.Kind is LayerKinds.Conv or LayerKinds.FullyConnected or LayerKinds.FactorizedConv or LayerKinds.FactorizedFullyConnected).ToList();
            if (weighted.Count == 0) return null;
            // The packed kernels' scratch: receptive fields (or input rows), their accumulators, padded planes or rows.
            int col = 0, acc = 8;
            foreach (var layer in weighted)
            {
                if (layer.Kind is LayerKinds.FactorizedConv or LayerKinds.FactorizedFullyConnected)
                {
                    var need = FactorizedScratch(layer);
                    col = Math.Max(col, need.Col);
                    acc = Math.Max(acc, need.Acc);
                    continue;
                }
                var input = _tensors[layer.Inputs[0]].Shape;
                bool nhwc = layer.Kind == LayerKinds.Conv && _layout.RunsNhwc(layer);
                if (IsDepthwise(layer))
                {
                    // NCHW: the padded input plane, plus slack for the vector loads of a row's partial last block (at
                    // stride ≤ 2 they read at most 30 bytes past it).
                    int[] pads = layer.GetInts("pads");
                    if (nhwc)
                    {
                        // NHWC: the SIMD path's padded plane (the rows and columns the output reaches), which also
                        // holds the scalar path's row of zx; after it, for kernels up to 4 wide, a 16-channel block's
                        // interleaved kernel rows (DepthwiseNhwcAvxVnni: 64 bytes per plane row and output column).
                        var output = _tensors[layer.Outputs[0]].Shape;
                        int[] window = layer.GetInts("kernel"), steps = layer.GetInts("strides"), spread = layer.GetInts("dilations");
                        int planeRows = (output[2] - 1) * steps[0] + (window[0] - 1) * spread[0] + 1;
                        int planeColumns = (output[3] - 1) * steps[1] + (window[1] - 1) * spread[1] + 1;
                        int expanded = window[1] <= 4 && input[1] >= 16 ? planeRows * output[3] * 64 : 0;
                        col = Math.Max(col, Math.Max(input[1], planeRows * planeColumns * input[1] + expanded));
                    }
                    else
                    {
                        col = Math.Max(col, (input[2] + pads[0] + pads[2]) * (input[3] + pads[1] + pads[3]) + 64);
                    }
                    continue;
                }
                var weights = layer.GetBlob("weights");
                int group = layer.Kind == LayerKinds.Conv ? layer.GetInt("group") : 1, m = weights.Shape[0];
                // NHWC convolutions take output positions four at a time, each kernel row padded to 4 bytes.
                int positions = nhwc ? 4 : 1;
                int[] kernel = layer.Kind == LayerKinds.Conv ? layer.GetInts("kernel") : new[] { 1, 1 };
                int field = nhwc ? kernel[0] * ((weights.Values.Count / (m * kernel[0]) + 3) & ~3) : (weights.Values.Count / m + 3) & ~3;
                col = Math.Max(col, positions * field);
                if (nhwc && group == 1 && layer.GetInts("dilations")[1] == 1)
                {
                    // Group 1 without horizontal dilation may read its kernel rows from a padded copy of the input
                    // (ConvRowsAvxVnni): the rows and columns the output reaches, plus 4 bytes for a row's padding;
                    // with AVX-512BW and weights stored in bytes (ConvRowsAvx2's int16 blocks; packed weights never
                    // take them), then an int16 copy of that plane, or of the whole input for a 1×1 layer read in
                    // place, from the next 64-byte boundary.
                    var output = _tensors[layer.Outputs[0]].Shape;
                    int[] strides = layer.GetInts("strides"), dilations = layer.GetInts("dilations");
                    int planeRows = (output[2] - 1) * strides[0] + (kernel[0] - 1) * dilations[0] + 1, planeColumns = (output[3] - 1) * strides[1] + kernel[1];
                    int plane = planeRows * planeColumns * input[1] + 4, image = input[1] * input[2] * input[3];
                    col = Math.Max(col, StorageBits(weights) == 8 ? ((plane + 63) & ~63) + 2 * Math.Max(plane, image) : plane);
                    if (TakesWinograd(layer, nhwc)) col = Math.Max(col, WinogradScratch(input[1], output[2], output[3], kernel[0], kernel[1]));
                }
                acc = Math.Max(acc, positions * ((m / group + 7) & ~7));
            }
            return new ScratchPlan(col, acc, _artifact.Layers.Any(IsSplit));
        }

        /// <summary>
        /// An 8-bit NHWC Conv the kernels may run as Winograd F(2×2, 3×3) or F(2, 3) on x86 without VNNI
        /// (QuantGenKernels.Winograd.cs): 3×3, 1×3 or 3×1, stride 1, no dilation, group 1, weights stored in bytes, whole
        /// blocks of 8 output channels, 8 to 1800 input channels, a u8 output. Its call passes a static cache for the
        /// transformed weights (a 1×3 or 3×1 fused with a MaxPool gets one the kernel never fills).
        /// </summary>
        private bool TakesWinograd(ArtifactLayer layer, bool nhwc)
        {
            if (Wide || !nhwc || layer.Kind != LayerKinds.Conv || layer.GetInt("group") != 1) return false;
            var weights = layer.GetBlob("weights");
            int[] kernel = layer.GetInts("kernel");
            var output = _tensors[layer.Outputs[0]].Shape;
            int c = _tensors[layer.Inputs[0]].Shape[1], kh = kernel[0], kw = kernel[1];
            if (!(kh == 3 && kw is 3 or 1 || kh == 1 && kw == 3)
                || !layer.GetInts("strides").SequenceEqual(new[] { 1, 1 }) || !layer.GetInts("dilations").SequenceEqual(new[] { 1, 1 })
                || StorageBits(weights) != 8 || weights.Shape[0] % 8 != 0 || c < 8 || c > 1800
                || _tensors[layer.Outputs[0]].ElementType == ArtifactElementType.F32)
                return false;
            // Worth it only where the products saved (kh·kw per output against 16 per 2×2 tile or 4 per 2 outputs) beat
            // the tiles' padding by a quarter, over at least two groups of four tiles, and in one dimension (1.5× fewer
            // products) over at least 32 output channels, which share the input transform: the openWakeWord embedding
            // model's last layers (a 3×1 kernel over one output row, 1 tile; 6 tiles) ran 5-25% slower through it, its
            // 24 → 24-channel 1×3 and 3×1 layers 0-5% slower (docs/benchmarks.md, "Winograd without VNNI").
            var (th, tw, elements) = WinogradTile(kh, kw);
            long tiles = (long)((output[2] + th - 1) / th) * ((output[3] + tw - 1) / tw);
            return tiles >= 8 && 4L * kh * kw * output[2] * output[3] >= 5L * elements * tiles && (elements == 16 || weights.Shape[0] >= 32);
        }

        /// <summary>
        /// The Winograd path's scratch (QuantGenKernels.ConvWinograd and WinogradPlaneBytes): the padded byte plane of whole
        /// tiles (2×2 outputs for 3×3, 1×2 for 1×3, 2×1 for 3×1) with 16 bytes of over-read, rounded to 64, then 63 bytes
        /// of alignment and the transformed input, 16 or 4 int16 planes of tiles × channels rounded up to 16.
        /// </summary>
        private static int WinogradScratch(int c, int oh, int ow, int kh, int kw)
        {
            var (th, tw, elements) = WinogradTile(kh, kw);
            int tilesY = (oh + th - 1) / th, tilesX = (ow + tw - 1) / tw;
            int plane = ((th * tilesY + kh - 1) * (tw * tilesX + kw - 1) * c + 16 + 63) & ~63;
            return plane + 63 + 2 * elements * tilesY * tilesX * ((c + 15) & ~15);
        }

        /// <summary>A Winograd tile's outputs down and across (2 along an axis of 3 taps, else 1) and its transformed elements (16 or 4).</summary>
        private static (int Height, int Width, int Elements) WinogradTile(int kh, int kw) =>
            (kh == 3 ? 2 : 1, kw == 3 ? 2 : 1, (kh == 3 ? 4 : 1) * (kw == 3 ? 4 : 1));

        /// <summary>A static field of a layer method (s_ and the method name in camel case, then the suffix), unique in the class.</summary>
        private string StaticField(string method, string suffix) =>
            _memberNames.Take("s_" + char.ToLowerInvariant(method[0]) + method.Substring(1) + suffix);

        private LayerPlan PlanLayer(ArtifactLayer layer, string method)
        {
            var x = layer.Inputs.Count > 0 ? layer.Inputs[0] : "";
            var y = layer.Outputs[0];
            var parameters = layer.Inputs.Where(_floatParameters.ContainsKey).Select(t => new FloatParameter(_floatParameters[t], false))
                .Concat(layer.Outputs.Where(_floatParameters.ContainsKey).Select(t => new FloatParameter(_floatParameters[t], true)));
            var layout = LayerLayout.Nchw;
            var fusion = LayerFusion.None;
            LayerBody body;
            switch (layer.Kind)
            {
                case LayerKinds.Quantize:
                {
                    var outT = _tensors[y];
                    bool nhwc = _layout.IsNhwc(y);
                    if (nhwc) layout = LayerLayout.NchwToNhwc;
                    var args = Line(Pos(In(x)), Pos(Out(y)), Pos(new FloatValue(outT.Scale)), Pos(outT.ZeroPoint), Pos(outT.QMin), Pos(outT.QMax));
                    if (nhwc) args = args.With(Named("channels", outT.Shape[1]), Named("pixels", outT.Shape[2] * outT.Shape[3]));
                    body = Call(Library, nhwc ? "QuantizeToNhwc" : "Quantize", args);
                    break;
                }
                case LayerKinds.Dequantize:
                {
                    var inT = _tensors[x];
                    bool nhwc = _layout.IsNhwc(x);
                    if (nhwc) layout = LayerLayout.NhwcToNchw;
                    var args = Line(Pos(In(x)), Pos(Out(y)), Pos(new FloatValue(inT.Scale)), Pos(inT.ZeroPoint));
                    if (nhwc) args = args.With(Named("channels", inT.Shape[1]), Named("pixels", inT.Shape[2] * inT.Shape[3]));
                    body = Call(Library, nhwc ? "DequantizeFromNhwc" : "Dequantize", args);
                    break;
                }
                case LayerKinds.Conv:
                {
                    if (_layout.RunsNhwc(layer)) layout = LayerLayout.Nhwc;
                    var pool = _fusion.PoolAfter(layer);
                    if (pool is not null) fusion = new LayerFusion(pool.Name, false);
                    body = PlanConv(layer, method, x, y, layout == LayerLayout.Nhwc, pool);
                    break;
                }
                case LayerKinds.FullyConnected:
                {
                    var image = _layout.FlattenedNhwcSource(x);
                    if (image is not null) layout = LayerLayout.FlattenedNhwc;
                    body = PlanFullyConnected(layer, method, x, y, image);
                    break;
                }
                case LayerKinds.MaxPool when _fusion.IsFused(layer):
                    layout = LayerLayout.Nhwc;
                    fusion = new LayerFusion(null, true);
                    body = new NoBody();
                    break;
                case LayerKinds.MaxPool:
                case LayerKinds.AveragePool:
                {
                    if (_layout.RunsNhwc(layer)) layout = LayerLayout.Nhwc;
                    body = PlanPool(layer, method, x, y, layout == LayerLayout.Nhwc);
                    break;
                }
                case LayerKinds.Add:
                {
                    ArtifactTensor a = _tensors[x], b = _tensors[layer.Inputs[1]], outT = _tensors[y];
                    int[] m = layer.GetInts("multipliers"), clamp = layer.GetInts("clamp");
                    if (_layout.IsNhwc(y)) layout = LayerLayout.Nhwc;
                    body = Call(Library, "Add",
                        Line(Pos(In(x)), Pos(In(layer.Inputs[1])), Pos(Out(y)), Named("za", a.ZeroPoint), Named("zb", b.ZeroPoint), Named("ma", m[0]), Named("mb", m[1])),
                        Line(Named("shift", layer.GetInt("shift")), Named("zy", outT.ZeroPoint), Named("lo", clamp[0]), Named("hi", clamp[1])));
                    break;
                }
                case LayerKinds.Reshape:
                    body = _floatParameters.ContainsKey(y) || _buffers[y] != _buffers[x] ? new CopyBody(Operand(x), Operand(y)) : new AliasBody();
                    break;
                case LayerKinds.Softmax:
                {
                    var outT = _tensors[y];
                    int axis = layer.GetInt("axis");
                    var shape = outT.Shape.AsArray();
                    int n = shape[axis], inner = 1;
                    for (int i = axis + 1; i < shape.Length; i++) inner *= shape[i];
                    // The float edge layers are shared by both widths.
                    body = Call(KernelLibrary.Kernels, "Softmax", Line(Pos(In(x)), Pos(Out(y)), Named("outer", outT.ElementCount / (n * inner)), Named("n", n), Named("inner", inner)));
                    break;
                }
                case LayerKinds.Sigmoid:
                    body = Call(KernelLibrary.Kernels, "Sigmoid", Line(Pos(In(x)), Pos(Out(y))));
                    break;
                case LayerKinds.Lookup:
                case LayerKinds.Affine:
                case LayerKinds.Mul:
                case LayerKinds.Concat:
                    body = PlanElementwise(layer, method, x, y, out layout); // ModelPlanner.Elementwise.cs
                    break;
                case LayerKinds.MatMul when !Wide:
                    body = PlanMatMul(layer, method, y); // ModelPlanner.MatMul.cs
                    break;
                case LayerKinds.Remap when !Wide:
                    body = PlanRemap(layer, method, x, y, out layout); // ModelPlanner.Remap.cs
                    break;
                case LayerKinds.Resize when !Wide:
                    body = PlanResize(layer, method, x, y, out layout); // ModelPlanner.Resize.cs
                    break;
                case LayerKinds.FactorizedFullyConnected when !Wide:
                    if (_layout.FlattenedNhwcSource(x) is not null) layout = LayerLayout.FlattenedNhwc;
                    body = PlanFactorized(layer, method, x, y, conv: false);
                    break;
                case LayerKinds.FactorizedConv when !Wide:
                    if (_layout.RunsNhwc(layer)) layout = LayerLayout.Nhwc;
                    body = PlanFactorized(layer, method, x, y, conv: true);
                    break;
                default:
                    if (FloatLayers.IsFloat(layer.Kind))
                    {
                        body = PlanFloat(layer, method);
                        break;
                    }
                    throw new ArtifactFormatException(Wide && layer.Kind is LayerKinds.FactorizedFullyConnected or LayerKinds.FactorizedConv
                        ? $"Layer '{layer.Name}' is a {layer.Kind}, which has no kernel for 16-bit activations."
                        : $"Layer '{layer.Name}' has unknown kind '{layer.Kind}'.");
            }
            return new LayerPlan(method, layer.Kind, layer.Name, layer.Comment, new(layer.Inputs.Select(View).ToArray()), new(layer.Outputs.Select(View).ToArray()),
                new(parameters.ToArray()), layout, fusion, body);
        }

        /// <summary>
        /// A Conv. 16-bit: QuantGenWideKernels.Conv (NCHW, weights as stored). 8-bit: depthwise (one channel per group)
        /// gets its own kernel in either layout; otherwise the packed kernels, NHWC (its weights reordered to the
        /// receptive field's (KH, KW, C/G) order), fused with the MaxPool after it, or split between threads when large.
        /// </summary>
        private KernelCall PlanConv(ArtifactLayer layer, string method, string x, string y, bool nhwc, ArtifactLayer? pool)
        {
            if (_tensors[y].ElementType == ArtifactElementType.F32) return PlanConvToFloat(layer, method, x, y, nhwc); // ModelPlanner.FloatOutputs.cs
            int[] k = layer.GetInts("kernel"), s = layer.GetInts("strides"), p = layer.GetInts("pads"), d = layer.GetInts("dilations"), clamp = layer.GetInts("clamp");
            int group = layer.GetInt("group");
            ArtifactTensor inT = _tensors[x], outT = _tensors[y];
            bool depthwise = !Wide && IsDepthwise(layer);
            var requantization = Line(Named("zx", inT.ZeroPoint), Named("zy", outT.ZeroPoint), Named("lo", clamp[0]), Named("hi", clamp[1]));
            var window = Line(Named("kh", k[0]), Named("kw", k[1]), Named("sh", s[0]), Named("sw", s[1]), Named("padTop", p[0]), Named("padLeft", p[1]));
            if (depthwise && !nhwc) window = window.With(Named("padBottom", p[2]), Named("padRight", p[3]));
            window = window.With(Named("dh", d[0]), Named("dw", d[1]));
            if (!depthwise && pool is null) window = window.With(Named("group", group));
            var shapes = Line(Named("n", inT.Shape[0]), Named("c", inT.Shape[1]), Named("h", inT.Shape[2]), Named("width", inT.Shape[3]));
            if (!depthwise) shapes = shapes.With(Named("m", outT.Shape[1]));
            shapes = shapes.With(Named("oh", outT.Shape[2]), Named("ow", outT.Shape[3]));

            if (Wide)
                return Call(Library, "Conv", Line(Pos(In(x))).With(Constants(layer, method, layer.GetBlob("weights"))).With(Pos(Out(y)), Pos(new ScratchValue(ScratchBuffer.Col))),
                    shapes, window, requantization);
            if (depthwise)
            {
                var taps = nhwc ? TapsByChannel(layer.GetBlob("weights")) : layer.GetBlob("weights");
                return Call(Library, nhwc ? "DepthwiseConvNhwc" : "DepthwiseConv",
                    Line(Pos(In(x))).With(Constants(layer, method, taps)).With(Pos(Out(y)), Pos(new ScratchValue(ScratchBuffer.Col))),
                    shapes, window, requantization);
            }
            // NHWC reads a receptive field in (KH, KW, C/G) order: the weights are reordered to match, then packed.
            var weights = nhwc ? ReductionChannelsLast(layer.GetBlob("weights"), k[0], k[1]) : layer.GetBlob("weights");
            PartsPlan? parts = null;
            if (pool is null && nhwc && IsLarge(layer))
                parts = new PartsPlan(StaticField(method, "Parts"), _memberNames.Take(method + "Part"));
            var first = Line(Pos(In(x))).With(Constants(layer, method, PackWeights(weights, group), inRegisters: true)).With(Pos(Out(y)));
            if (pool is not null) first = first.With(Pos(Out(pool.Outputs[0])));
            first = first.With(Pos(new ScratchValue(parts is null ? ScratchBuffer.Col : ScratchBuffer.PartCol)), Pos(new ScratchValue(ScratchBuffer.Acc)));
            if (TakesWinograd(layer, nhwc))
            {
                var cache = StaticField(method, "Winograd");
                _caches.Add(cache);
                first = first.With(Pos(new CacheValue(cache)));
            }
            if (parts is not null) requantization = requantization.With(Named("part", new PartValue(false)), Named("parts", new PartValue(true)));
            string kernel = pool is not null ? "ConvMaxPoolNhwc" : nhwc ? "ConvNhwc" : "ConvPacked";
            return ReadingPacked(new KernelCall(Library, kernel, new(new[] { first, shapes, window, requantization }), parts));
        }

        /// <summary>
        /// A FullyConnected: 8-bit packs its weights (their columns in (H, W, C) order when the input is a flattened NHWC
        /// image) for FullyConnectedPacked; 16-bit passes them as stored to QuantGenWideKernels.FullyConnected.
        /// </summary>
        private KernelCall PlanFullyConnected(ArtifactLayer layer, string method, string x, string y, int[]? image)
        {
            var weights = layer.GetBlob("weights");
            int m = weights.Shape[0], k = weights.Shape[1];
            // The input is an NHWC image flattened: its rows are in (H, W, C) order, and so are these weight columns.
            if (image is not null) weights = FlattenedColumnsChannelsLast(weights, image[1], image[2] * image[3]);
            if (_tensors[y].ElementType == ArtifactElementType.F32) // ModelPlanner.FloatOutputs.cs
                return ReadingPacked(Call(Library, "FullyConnectedPackedToFloat", FloatOutputFirstLine(layer, method, x, y, PackWeights(weights, 1)),
                    Line(Named("rows", _tensors[x].ElementCount / k), Named("k", k), Named("m", m)).With(FloatBounds(layer))));
            int[] clamp = layer.GetInts("clamp");
            var first = Line(Pos(In(x))).With(Constants(layer, method, Wide ? weights : PackWeights(weights, 1), inRegisters: true)).With(Pos(Out(y)));
            if (!Wide) first = first.With(Pos(new ScratchValue(ScratchBuffer.Col)), Pos(new ScratchValue(ScratchBuffer.Acc)));
            return ReadingPacked(Call(Library, Wide ? "FullyConnected" : "FullyConnectedPacked", first,
                Line(Named("rows", _tensors[x].ElementCount / k), Named("k", k), Named("m", m), Named("zy", _tensors[y].ZeroPoint), Named("lo", clamp[0]), Named("hi", clamp[1]))));
        }

        /// <summary>MaxPool or AveragePool, NHWC or NCHW (planes).</summary>
        private KernelCall PlanPool(ArtifactLayer layer, string method, string x, string y, bool nhwc)
        {
            ArtifactTensor inT = _tensors[x], outT = _tensors[y];
            bool average = layer.Kind == LayerKinds.AveragePool;
            int[] k = layer.GetInts("kernel"), s = layer.GetInts("strides"), p = layer.GetInts("pads");
            var first = Line(Pos(In(x)), Pos(Out(y)));
            if (average)
            {
                var mult = DataName(method, "Multiplier", layer.GetBlob("multiplier"));
                var shift = DataName(method, "Shift", layer.GetBlob("shift"));
                first = first.With(Pos(new DataValue(mult, DataView.Ints)), Pos(new DataValue(shift, DataView.Ints)));
            }
            var shapes = nhwc
                ? Line(Named("n", inT.Shape[0]), Named("c", inT.Shape[1]))
                : Line(Named("planes", inT.Shape[0] * inT.Shape[1]));
            shapes = shapes.With(Named("h", inT.Shape[2]), Named("width", inT.Shape[3]), Named("oh", outT.Shape[2]), Named("ow", outT.Shape[3]));
            var window = Line(Named("kh", k[0]), Named("kw", k[1]), Named("sh", s[0]), Named("sw", s[1]), Named("padTop", p[0]), Named("padLeft", p[1]));
            string kernel = (average ? "AveragePool" : "MaxPool") + (nhwc ? "Nhwc" : "");
            if (!average)
            {
                int[] d = layer.GetInts("dilations");
                window = window.With(Named("dh", d[0]), Named("dw", d[1]));
                // MaxPool takes its shapes on the call's first line.
                return Call(Library, kernel, first.With(shapes), window);
            }
            int[] clamp = layer.GetInts("clamp");
            var requantization = Line(Named("countIncludePad", new BoolValue(layer.GetInt("countIncludePad") != 0)), Named("zx", inT.ZeroPoint), Named("zy", outT.ZeroPoint),
                Named("lo", clamp[0]), Named("hi", clamp[1]));
            return Call(Library, kernel, first, shapes, window, requantization);
        }

        /// <summary>
        /// The constants a weighted layer's kernel requantizes with, registered as data: the weights (already in the
        /// order the kernel reads them), the bias, the requantization of positive accumulators and of negative ones
        /// (a fused LeakyRelu's slope, else the positive one again), then, for a u8 or i16 output, the per-channel upper
        /// bounds clampHigh (the empty span without them; a float output has none, and its kernels no such parameter:
        /// docs/artifact.md, "Float outputs"). 8-bit kernels take float32 scales, computed here once (FixedPoint.Scale of each
        /// multiplier and shift, docs/artifact.md); 16-bit kernels the fixed-point multiplier and shift.
        /// </summary>
        private Argument[] Constants(ArtifactLayer layer, string method, ArtifactBlob weights, bool inRegisters = false)
        {
            var args = new List<Argument>
            {
                Pos(WeightsValue(method, weights, inRegisters)), // ModelPlanner.Packed.cs: one byte per weight, or 2/4 bits
                Pos(new DataValue(DataName(method, "Bias", layer.GetBlob("bias")), DataView.Ints)),
            };
            if (Wide)
            {
                var mult = Pos(new DataValue(DataName(method, "Multiplier", layer.GetBlob("multiplier")), DataView.Ints));
                var shift = Pos(new DataValue(DataName(method, "Shift", layer.GetBlob("shift")), DataView.Ints));
                args.Add(mult);
                args.Add(shift);
                if (IsLeaky(layer))
                {
                    args.Add(Pos(new DataValue(DataName(method, "NegMultiplier", layer.GetBlob("negMultiplier")), DataView.Ints)));
                    args.Add(Pos(new DataValue(DataName(method, "NegShift", layer.GetBlob("negShift")), DataView.Ints)));
                }
                else
                {
                    args.Add(mult);
                    args.Add(shift);
                }
            }
            else
            {
                var scale = Pos(new DataValue(DataName(method, "Scale", ScaleBlob("scale", layer.GetBlob("multiplier"), layer.GetBlob("shift"))), DataView.Floats));
                args.Add(scale);
                args.Add(IsLeaky(layer)
                    ? Pos(new DataValue(DataName(method, "NegScale", ScaleBlob("negScale", layer.GetBlob("negMultiplier"), layer.GetBlob("negShift"))), DataView.Floats))
                    : scale);
            }
            if (_tensors[layer.Outputs[0]].ElementType == ArtifactElementType.F32) return args.ToArray();
            var clampHigh = layer.Blobs.FirstOrDefault(b => b.Key == "clampHigh");
            args.Add(Pos(clampHigh is null ? new EmptyValue() : new DataValue(DataName(method, "ClampHigh", clampHigh), DataView.Ints)));
            return args.ToArray();
        }

        /// <summary>
        /// Layers worth splitting over threads when QuantGenKernels.Threads &gt; 1: group-1 convolutions of at least 2^24
        /// multiply-accumulates (~80 µs of work on one core here). Handing a part to the thread pool and waiting for it
        /// cost 20-30 µs per layer on the 2-core test machine, so smaller layers ran slower split (docs/benchmarks.md).
        /// </summary>
        private bool IsLarge(ArtifactLayer layer)
        {
            var output = _tensors[layer.Outputs[0]];
            // Packed sub-8-bit weights are read as stored (in registers), so a packed layer splits like any other.
            return layer.Kind == LayerKinds.Conv && layer.GetInt("group") == 1 && !IsDepthwise(layer) && output.ElementType != ArtifactElementType.F32
                && (long)output.ElementCount * (layer.GetBlob("weights").Values.Count / output.Shape[1]) >= 1L << 24;
        }

        /// <summary>A layer written as parts: a large NHWC convolution (8-bit) that is not fused with a pool.</summary>
        private bool IsSplit(ArtifactLayer l) => !Wide && l.Kind == LayerKinds.Conv && _layout.RunsNhwc(l) && _fusion.PoolAfter(l) is null && IsLarge(l);

        /// <summary>
        /// A depthwise convolution (one input and one output channel per group) gets its own kernel, unless it writes
        /// float (ConvNhwcToFloat/ConvPackedToFloat take every group count).
        /// </summary>
        private bool IsDepthwise(ArtifactLayer layer) =>
            layer.Kind == LayerKinds.Conv && _tensors[layer.Outputs[0]].ElementType != ArtifactElementType.F32 && layer.GetInt("group") > 1 && layer.GetInt("group") == _tensors[layer.Inputs[0]].Shape[1]
            && layer.GetInt("group") == _tensors[layer.Outputs[0]].Shape[1];

        /// <summary>A Conv/FullyConnected with a fused LeakyRelu carries multipliers for negative accumulators (docs/artifact.md).</summary>
        private static bool IsLeaky(ArtifactLayer layer) => layer.HasBlob("negMultiplier");

        private string DataName(string method, string suffix, ArtifactBlob blob)
        {
            var name = _memberNames.Take(method + suffix);
            _data.Add(new DataPlan(name, blob));
            return name;
        }

        private Operand Operand(string tensor) =>
            _floatParameters.TryGetValue(tensor, out var p)
                ? new Operand(p, true, true)
                : new Operand(_buffers[tensor], false, _tensors[tensor].ElementType == ArtifactElementType.F32);

        private TensorValue In(string tensor) => new(Operand(tensor), false);

        private TensorValue Out(string tensor) => new(Operand(tensor), true);

        private TensorView View(string tensor)
        {
            var t = _tensors[tensor];
            return new TensorView(t.ElementType == ArtifactElementType.F32, t.Shape, t.Scale, t.ZeroPoint);
        }

        private static KernelCall Call(KernelLibrary library, string kernel, params ArgumentLine[] lines) => new(library, kernel, new(lines));

        private static ArgumentLine Line(params Argument[] args) => new(new(args));

        private static Argument Pos(ArgumentValue value) => new(null, value);

        private static Argument Pos(int value) => new(null, new IntValue(value));

        private static Argument Named(string name, int value) => new(name, new IntValue(value));

        private static Argument Named(string name, ArgumentValue value) => new(name, value);
    }

    internal static class ArgumentLineExtensions
    {
        /// <summary>The line with <paramref name="more"/> appended.</summary>
        public static ArgumentLine With(this ArgumentLine line, params Argument[] more) =>
            new(new(line.Arguments.Concat(more).ToArray()));

        /// <summary>The line with <paramref name="next"/>'s arguments appended.</summary>
        public static ArgumentLine With(this ArgumentLine line, ArgumentLine next) => line.With(next.Arguments.ToArray());
    }
}
