using System;
using System.Collections.Generic;

namespace QuantGen.Core.Artifact;

/// <summary>
/// Resolves a float layer's node (attributes, constant inputs, the shapes of its tensors) into QuantGenFloatKernels calls
/// with every shape, stride and attribute baked in: the same semantics as the reference operators
/// (src/QuantGen.Core/Operators), recomputed from the artifact alone (the generator never sees the ONNX model).
/// </summary>
internal static class FloatKernelPlans
{
    private static readonly string[] BinaryOps = { "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min" };
    private static readonly string[] UnaryOps = { "Relu", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Abs", "Neg", "LeakyRelu", "HardSigmoid", "HardSwish", "Clip" };
    private static readonly int[] Scalar = { 1 };
    private static readonly int[] ZeroOffset = { 0 };
    private static readonly string[] PadModes = { "constant", "reflect", "edge" };

    public static List<FloatCall> Describe(ArtifactLayer layer, string op, int opset, int[] outShape, Func<string, ArtifactTensor> tensor)
    {
        int[] Shape(int index) => FloatLayers.ShapeOf(layer, index, tensor);
        switch (op)
        {
            case "Add":
            case "Sub":
            case "Mul":
            case "Div":
            case "Pow":
            case "Max":
            case "Min":
            {
                if (FloatLayers.InputCount(layer) != 2) throw FloatLayers.Unsupported(layer, "it does not have exactly two inputs");
                if (opset < 7 && FloatLayers.HasAttribute(layer, "axis")) throw FloatLayers.Unsupported(layer, "it uses the pre-opset-7 'axis' broadcast");
                int code = Array.IndexOf(BinaryOps, op);
                var shape = outShape.Length == 0 ? Scalar : outShape;
                return One(new FloatCall("Binary", FloatArgument.Operand(0), FloatArgument.Operand(1), FloatArgument.Output(),
                    FloatArgument.IntArray(shape), FloatArgument.IntArray(AlignedStrides(Shape(0), shape, layer)), FloatArgument.IntArray(AlignedStrides(Shape(1), shape, layer)),
                    FloatArgument.Int("op", code)));
            }
            case "Relu":
            case "Sigmoid":
            case "Tanh":
            case "Exp":
            case "Log":
            case "Sqrt":
            case "Abs":
            case "Neg":
            case "LeakyRelu":
            case "HardSigmoid":
            case "HardSwish":
            case "Clip":
            {
                int code = Array.IndexOf(UnaryOps, op);
                float alpha = 0, beta = 0;
                if (op == "LeakyRelu") alpha = FloatLayers.GetFloat(layer, "alpha", 0.01f);
                if (op == "HardSigmoid") { alpha = FloatLayers.GetFloat(layer, "alpha", 0.2f); beta = FloatLayers.GetFloat(layer, "beta", 0.5f); }
                if (op == "Clip")
                {
                    alpha = float.NegativeInfinity;
                    beta = float.PositiveInfinity;
                    if (opset < 11)
                    {
                        alpha = FloatLayers.GetFloat(layer, "min", alpha);
                        beta = FloatLayers.GetFloat(layer, "max", beta);
                    }
                    else
                    {
                        if (FloatLayers.Source(layer, 1) >= 0 || FloatLayers.Source(layer, 2) >= 0)
                        {
                            // Computed bounds (log-mel's max(x, max(x) − 80)): one value each, read at run time.
                            for (int i = 1; i <= 2; i++)
                                if (FloatLayers.Source(layer, i) != -1 && Product(Shape(i), 0, Shape(i).Length) != 1) throw FloatLayers.Unsupported(layer, "a bound is not a single value");
                            return One(new FloatCall("ClipBounds", FloatArgument.Operand(0), FloatArgument.OptionalOperand(1), FloatArgument.OptionalOperand(2), FloatArgument.Output()));
                        }
                        if (FloatLayers.ConstantFloats(layer, 1) is { Length: 1 } lo) alpha = lo[0];
                        if (FloatLayers.ConstantFloats(layer, 2) is { Length: 1 } hi) beta = hi[0];
                    }
                }
                return One(new FloatCall("Unary", FloatArgument.Operand(0), FloatArgument.Output(), FloatArgument.Int("op", code), FloatArgument.Float("alpha", alpha), FloatArgument.Float("beta", beta)));
            }
            case "Softmax":
            {
                int rank = outShape.Length, outer, n, inner = 1;
                int axis = FloatLayers.GetInt(layer, "axis", opset < 13 ? 1 : -1);
                if (axis < 0) axis += rank;
                if (axis < 0 || axis > rank || (opset >= 13 && axis == rank)) throw FloatLayers.Unsupported(layer, $"its axis is outside rank {rank}");
                outer = Product(outShape, 0, axis);
                if (opset < 13) n = Product(outShape, axis, rank);
                else
                {
                    n = outShape[axis];
                    inner = Product(outShape, axis + 1, rank);
                }
                return One(new FloatCall("Softmax", FloatArgument.Operand(0), FloatArgument.Output(), FloatArgument.Int("outer", outer), FloatArgument.Int("n", n), FloatArgument.Int("inner", inner)));
            }
            case "LayerNormalization":
            {
                var input = Shape(0);
                int rank = input.Length;
                int axis = FloatLayers.GetInt(layer, "axis", -1);
                if (axis < 0) axis += rank;
                if (axis < 0 || axis >= rank) throw FloatLayers.Unsupported(layer, $"its axis is outside rank {rank}");
                int n = Product(input, axis, rank);
                for (int i = 1; i <= 2; i++)
                {
                    if (FloatLayers.Source(layer, i) == -1) continue;
                    int count = Product(Shape(i), 0, Shape(i).Length);
                    if (count != n && count != 1) throw FloatLayers.Unsupported(layer, $"input {i} holds {count} values, not 1 or {n}");
                }
                Expect(layer, input, outShape);
                return One(new FloatCall("LayerNorm", FloatArgument.Operand(0), FloatArgument.OptionalOperand(1), FloatArgument.OptionalOperand(2), FloatArgument.Output(),
                    FloatArgument.Int("outer", Product(input, 0, axis)), FloatArgument.Int("n", n), FloatArgument.Float("epsilon", FloatLayers.GetFloat(layer, "epsilon", 1e-5f))));
            }
            case "Transpose":
            {
                var input = Shape(0);
                int rank = input.Length;
                var perm = FloatLayers.GetInts(layer, "perm");
                if (perm is null)
                {
                    perm = new int[rank];
                    for (int i = 0; i < rank; i++) perm[i] = rank - 1 - i;
                }
                if (perm.Length != rank) throw FloatLayers.Unsupported(layer, "perm does not match the rank");
                var strides = Strides(input);
                var source = new int[rank];
                var shape = new int[rank];
                for (int i = 0; i < rank; i++)
                {
                    if (perm[i] < 0 || perm[i] >= rank) throw FloatLayers.Unsupported(layer, "perm is out of range");
                    source[i] = strides[perm[i]];
                    shape[i] = input[perm[i]];
                }
                Expect(layer, shape, outShape);
                return One(Strided(shape, source, 0));
            }
            case "Slice":
            {
                var input = Shape(0);
                int rank = input.Length;
                int[]? starts, ends, axes, steps = null;
                if (opset < 10)
                {
                    starts = FloatLayers.GetInts(layer, "starts");
                    ends = FloatLayers.GetInts(layer, "ends");
                    axes = FloatLayers.GetInts(layer, "axes");
                }
                else
                {
                    for (int i = 1; i < FloatLayers.InputCount(layer); i++)
                        if (FloatLayers.Source(layer, i) >= 0) throw FloatLayers.Unsupported(layer, "its starts, ends, axes or steps are computed, not constants");
                    starts = FloatLayers.ConstantInts(layer, 1);
                    ends = FloatLayers.ConstantInts(layer, 2);
                    axes = FloatLayers.ConstantInts(layer, 3);
                    steps = FloatLayers.ConstantInts(layer, 4);
                }
                if (starts is null || ends is null || ends.Length != starts.Length) throw FloatLayers.Unsupported(layer, "starts and ends are missing or differ in length");
                var start = new int[rank];
                var step = new int[rank];
                var shape = (int[])input.Clone();
                for (int d = 0; d < rank; d++) step[d] = 1;
                for (int i = 0; i < starts.Length; i++)
                {
                    int axis = axes is null ? i : axes[i] < 0 ? axes[i] + rank : axes[i];
                    if (axis < 0 || axis >= rank) throw FloatLayers.Unsupported(layer, "an axis is out of range");
                    long dim = input[axis], s = steps is null ? 1 : steps[i];
                    if (s == 0) throw FloatLayers.Unsupported(layer, "a step is 0");
                    s = Math.Max(-(dim + 1), Math.Min(dim + 1, s));
                    long b = starts[i] < 0 ? starts[i] + dim : starts[i];
                    long e = ends[i] < 0 ? ends[i] + dim : ends[i];
                    long lo = s > 0 ? 0 : -1, hi = s > 0 ? dim : dim - 1;
                    b = Math.Max(lo, Math.Min(hi, b));
                    e = Math.Max(lo, Math.Min(hi, e));
                    long count = s > 0 ? (e - b + s - 1) / s : (b - e + (-s) - 1) / -s;
                    start[axis] = (int)b;
                    step[axis] = (int)s;
                    shape[axis] = (int)Math.Max(0, count);
                }
                Expect(layer, shape, outShape);
                var strides = Strides(input);
                var source = new int[rank];
                int offset = 0;
                for (int d = 0; d < rank; d++)
                {
                    source[d] = strides[d] * step[d];
                    if (shape[d] > 0) offset += strides[d] * start[d];
                }
                return One(Strided(shape, source, offset));
            }
            case "Concat":
            {
                int rank = outShape.Length;
                int axis = FloatLayers.GetInt(layer, "axis", int.MinValue);
                if (axis == int.MinValue) throw FloatLayers.Unsupported(layer, "it has no axis");
                if (axis < 0) axis += rank;
                if (axis < 0 || axis >= rank) throw FloatLayers.Unsupported(layer, "its axis is out of range");
                int outer = Product(outShape, 0, axis), inner = Product(outShape, axis + 1, rank), outBlock = outShape[axis] * inner, offset = 0;
                var calls = new List<FloatCall>();
                for (int i = 0; i < FloatLayers.InputCount(layer); i++)
                {
                    var shape = Shape(i);
                    if (shape.Length != rank) throw FloatLayers.Unsupported(layer, "its inputs differ in rank");
                    int block = shape[axis] * inner;
                    calls.Add(new FloatCall("CopyBlocks", FloatArgument.Operand(i), FloatArgument.Output(), FloatArgument.Int("outer", outer), FloatArgument.Int("block", block),
                        FloatArgument.Int("outBlock", outBlock), FloatArgument.Int("offset", offset)));
                    offset += block;
                }
                if (offset != outBlock) throw FloatLayers.Unsupported(layer, "its inputs do not add up to the output");
                return calls;
            }
            case "ReduceMean":
            case "ReduceMax":
            {
                var input = Shape(0);
                int rank = input.Length;
                int[]? axes = opset < 18 ? FloatLayers.GetInts(layer, "axes") : FloatLayers.InputCount(layer) > 1 ? FloatLayers.ConstantInts(layer, 1) : null;
                if (opset >= 18 && FloatLayers.InputCount(layer) > 1 && FloatLayers.Source(layer, 1) >= 0) throw FloatLayers.Unsupported(layer, "its axes are computed");
                var reduced = new bool[rank];
                if (axes is null || axes.Length == 0)
                {
                    if (FloatLayers.GetInt(layer, "noop_with_empty_axes", 0) != 0)
                        return One(Strided(input.Length == 0 ? Scalar : input, Strides(input.Length == 0 ? Scalar : input), 0));
                    for (int d = 0; d < rank; d++) reduced[d] = true;
                }
                else
                    foreach (var a in axes)
                    {
                        int d = a < 0 ? a + rank : a;
                        if (d < 0 || d >= rank) throw FloatLayers.Unsupported(layer, "an axis is out of range");
                        reduced[d] = true;
                    }
                var strides = Strides(input);
                var kept = new List<int>();
                var keptStrides = new List<int>();
                var red = new List<int>();
                var redStrides = new List<int>();
                for (int d = 0; d < rank; d++)
                {
                    (reduced[d] ? red : kept).Add(input[d]);
                    (reduced[d] ? redStrides : keptStrides).Add(strides[d]);
                }
                if (kept.Count == 0) { kept.Add(1); keptStrides.Add(0); }
                if (red.Count == 0) { red.Add(1); redStrides.Add(0); }
                if (Product(red.ToArray(), 0, red.Count) == 0) throw FloatLayers.Unsupported(layer, "it reduces an empty axis");
                return One(new FloatCall("Reduce", FloatArgument.Operand(0), FloatArgument.Output(), FloatArgument.IntArray(kept.ToArray()), FloatArgument.IntArray(keptStrides.ToArray()),
                    FloatArgument.IntArray(red.ToArray()), FloatArgument.IntArray(redStrides.ToArray()), FloatArgument.Int("mean", op == "ReduceMean" ? 1 : 0)));
            }
            case "MatMul":
            {
                int[] a = Shape(0), b = Shape(1);
                if (a.Length < 2 || b.Length < 2) throw FloatLayers.Unsupported(layer, "an operand is 1-D");
                int m = a[a.Length - 2], k = a[a.Length - 1], n = b[b.Length - 1];
                if (b[b.Length - 2] != k) throw FloatLayers.Unsupported(layer, "its inner dimensions differ");
                int batchRank = outShape.Length - 2;
                var batch = new int[batchRank];
                Array.Copy(outShape, batch, batchRank);
                int[] sa = AlignedStrides(Sub(a, a.Length - 2), batch, layer), sb = AlignedStrides(Sub(b, b.Length - 2), batch, layer);
                int count = Product(batch, 0, batchRank);
                var aOffsets = new int[count];
                var bOffsets = new int[count];
                var index = new int[batchRank];
                for (int i = 0; i < count; i++)
                {
                    for (int d = 0; d < batchRank; d++) { aOffsets[i] += index[d] * sa[d] * m * k; bOffsets[i] += index[d] * sb[d] * k * n; }
                    for (int d = batchRank - 1; d >= 0 && ++index[d] >= batch[d]; d--) index[d] = 0;
                }
                if (outShape[outShape.Length - 2] != m || outShape[outShape.Length - 1] != n) throw FloatLayers.Unsupported(layer, "its output shape does not match");
                return One(new FloatCall("MatMul", FloatArgument.Operand(0), FloatArgument.Operand(1), FloatArgument.Output(), FloatArgument.IntArray(aOffsets), FloatArgument.IntArray(bOffsets),
                    FloatArgument.Int("m", m), FloatArgument.Int("k", k), FloatArgument.Int("n", n)));
            }
            case "Conv":
            case "ConvTranspose":
                return One(Window(layer, op, Shape(0), Shape(1), outShape));
            case "Resize":
                return One(Resize(layer, opset, Shape(0), outShape));
            case "Cast":
            {
                // Float to float (exporters write it after Clip or Pow): a copy. Any other target is not a float layer.
                if (FloatLayers.GetInt(layer, "to", 0) != 1) throw FloatLayers.Unsupported(layer, "it casts to another type than float32");
                var x = Shape(0);
                return One(Strided(x.Length == 0 ? Scalar : x, Strides(x.Length == 0 ? Scalar : x), 0));
            }
            case "BatchNormalization":
            {
                var x = Shape(0);
                if (x.Length < 2) throw FloatLayers.Unsupported(layer, "its input has no channel axis");
                int c = x[1];
                var parameters = new float[4][];
                for (int i = 0; i < 4; i++)
                    if ((parameters[i] = FloatLayers.ConstantFloats(layer, i + 1)!) is null || parameters[i].Length != c)
                        throw FloatLayers.Unsupported(layer, "its scale, bias, mean and variance are not constants of one value per channel");
                float epsilon = FloatLayers.GetFloat(layer, "epsilon", 1e-5f);
                var factor = new float[c];
                var shift = new float[c];
                for (int ch = 0; ch < c; ch++)
                {
                    // As the operator: scale / sqrt(var + eps) in float32 (a double square root rounded once is float32's).
                    factor[ch] = parameters[0][ch] / (float)Math.Sqrt(parameters[3][ch] + epsilon);
                    shift[ch] = parameters[1][ch] - parameters[2][ch] * factor[ch];
                }
                return One(new FloatCall("ChannelAffine", FloatArgument.Operand(0), FloatArgument.Output(), FloatArgument.FloatArray(factor), FloatArgument.FloatArray(shift),
                    FloatArgument.Int("n", x[0]), FloatArgument.Int("c", c), FloatArgument.Int("plane", Product(x, 2, x.Length))));
            }
            case "GlobalAveragePool":
            case "GlobalMaxPool":
            {
                var x = Shape(0);
                if (x.Length < 3) throw FloatLayers.Unsupported(layer, "its input has no spatial axis");
                int size = Product(x, 2, x.Length);
                if (size == 0) throw FloatLayers.Unsupported(layer, "its input is empty");
                return One(new FloatCall("GlobalPool", FloatArgument.Operand(0), FloatArgument.Output(), FloatArgument.Int("planes", x[0] * x[1]), FloatArgument.Int("size", size),
                    FloatArgument.Int("max", op == "GlobalMaxPool" ? 1 : 0)));
            }
            case "Gemm":
            {
                int[] a = Shape(0), b = Shape(1);
                if (a.Length != 2 || b.Length != 2) throw FloatLayers.Unsupported(layer, "A and B are not matrices");
                bool ta = FloatLayers.GetInt(layer, "transA", 0) != 0, tb = FloatLayers.GetInt(layer, "transB", 0) != 0;
                int m = ta ? a[1] : a[0], k = ta ? a[0] : a[1], n = tb ? b[0] : b[1];
                if ((tb ? b[1] : b[0]) != k || outShape.Length != 2 || outShape[0] != m || outShape[1] != n) throw FloatLayers.Unsupported(layer, "its shapes do not match");
                int[] cStrides = FloatLayers.Source(layer, 2) == -1 ? new[] { 0, 0 } : AlignedStrides(Shape(2), outShape, layer);
                return One(new FloatCall("Gemm", FloatArgument.Operand(0), FloatArgument.Operand(1), FloatArgument.OptionalOperand(2), FloatArgument.Output(), FloatArgument.IntArray(cStrides),
                    FloatArgument.Int("m", m), FloatArgument.Int("k", k), FloatArgument.Int("n", n), FloatArgument.Int("transA", ta ? 1 : 0), FloatArgument.Int("transB", tb ? 1 : 0),
                    FloatArgument.Float("alpha", FloatLayers.GetFloat(layer, "alpha", 1f)), FloatArgument.Float("beta", FloatLayers.GetFloat(layer, "beta", 1f))));
            }
            case "Pad":
            {
                var x = Shape(0);
                int rank = x.Length;
                var mode = FloatLayers.GetString(layer, "mode") ?? "constant";
                int modeCode = Array.IndexOf(PadModes, mode);
                if (modeCode < 0) throw FloatLayers.Unsupported(layer, $"mode '{mode}' has no float kernel");
                int[]? pads = opset < 11 ? FloatLayers.GetInts(layer, "pads") ?? FloatLayers.GetInts(layer, "paddings") : FloatLayers.ConstantInts(layer, 1);
                if (pads is null) throw FloatLayers.Unsupported(layer, "its pads are not constants");
                int[] axes = new int[rank];
                for (int d = 0; d < rank; d++) axes[d] = d;
                if (opset >= 18 && FloatLayers.InputCount(layer) > 3 && FloatLayers.Source(layer, 3) != -1)
                {
                    axes = FloatLayers.ConstantInts(layer, 3) ?? throw FloatLayers.Unsupported(layer, "its axes are computed");
                    for (int i = 0; i < axes.Length; i++) axes[i] = axes[i] < 0 ? axes[i] + rank : axes[i];
                }
                if (pads.Length != 2 * axes.Length) throw FloatLayers.Unsupported(layer, "its pads do not match its axes");
                var begin = new int[rank];
                var shape = (int[])x.Clone();
                for (int i = 0; i < axes.Length; i++)
                {
                    if (axes[i] < 0 || axes[i] >= rank) throw FloatLayers.Unsupported(layer, "an axis is out of range");
                    begin[axes[i]] = pads[i];
                    shape[axes[i]] = x[axes[i]] + pads[i] + pads[i + axes.Length];
                }
                for (int d = 0; d < rank; d++)
                    if (shape[d] != outShape[d] || (modeCode != 0 && x[d] == 0 && shape[d] > 0)) throw FloatLayers.Unsupported(layer, "its output shape does not match");
                float value = 0;
                if (opset < 11) value = FloatLayers.GetFloat(layer, "value", 0f);
                else if (FloatLayers.InputCount(layer) > 2 && FloatLayers.Source(layer, 2) != -1)
                    value = FloatLayers.ConstantFloats(layer, 2) is { Length: > 0 } v ? v[0] : throw FloatLayers.Unsupported(layer, "its constant_value is computed");
                return One(new FloatCall("Pad", FloatArgument.Operand(0), FloatArgument.Output(), FloatArgument.IntArray(x.Length == 0 ? Scalar : x), FloatArgument.IntArray(shape.Length == 0 ? Scalar : shape),
                    FloatArgument.IntArray(begin.Length == 0 ? ZeroOffset : begin), FloatArgument.Int("mode", modeCode), FloatArgument.Float("value", value)));
            }
            default:
                throw FloatLayers.Unsupported(layer, "its op type has no float kernel yet");
        }
    }

    /// <summary>Conv or ConvTranspose over 1 or 2 spatial dims (1-D as 2-D with H = 1), explicit or automatic pads.</summary>
    private static FloatCall Window(ArtifactLayer layer, string op, int[] x, int[] w, int[] y)
    {
        if (x.Length != w.Length || y.Length != x.Length || (x.Length != 3 && x.Length != 4)) throw FloatLayers.Unsupported(layer, "it is not a 1-D or 2-D window");
        bool oneD = x.Length == 3;
        int[] Spatial(int[] s) => oneD ? new[] { 1, s[2] } : new[] { s[2], s[3] };
        int[] xs = Spatial(x), ys = Spatial(y), ks = Spatial(w);
        int[] Pair(string name, int fallback)
        {
            var v = FloatLayers.GetInts(layer, name);
            if (v is null) return new[] { fallback, fallback };
            if (v.Length != (oneD ? 1 : 2)) throw FloatLayers.Unsupported(layer, $"'{name}' does not match the rank");
            return oneD ? new[] { fallback == 0 ? 0 : 1, v[0] } : v;
        }
        int[] strides = Pair("strides", 1), dilations = Pair("dilations", 1);
        int group = FloatLayers.GetInt(layer, "group", 1);
        bool transpose = op == "ConvTranspose";
        int c = x[1], m = transpose ? w[1] * group : w[0];
        if (group < 1 || c % group != 0 || m % group != 0 || y[1] != m || (transpose ? w[0] != c : w[1] * group != c)) throw FloatLayers.Unsupported(layer, "its channels and group do not match");
        var autoPad = FloatLayers.GetString(layer, "auto_pad") ?? "NOTSET";
        var pads = new int[4];
        var given = FloatLayers.GetInts(layer, "pads");
        if (autoPad == "NOTSET" && given is not null)
        {
            if (given.Length != (oneD ? 2 : 4)) throw FloatLayers.Unsupported(layer, "'pads' does not match the rank");
            pads = oneD ? new[] { 0, given[0], 0, given[1] } : given;
        }
        else if (autoPad is "SAME_UPPER" or "SAME_LOWER" && !transpose)
            for (int d = 0; d < 2; d++)
            {
                int total = Math.Max(0, (ys[d] - 1) * strides[d] + (ks[d] - 1) * dilations[d] + 1 - xs[d]);
                int small = total / 2, large = total - small;
                pads[d] = autoPad == "SAME_LOWER" ? large : small;
                pads[d + 2] = autoPad == "SAME_LOWER" ? small : large;
            }
        else if (autoPad != "NOTSET" && autoPad != "VALID") throw FloatLayers.Unsupported(layer, $"auto_pad {autoPad} is not supported by the float kernel");
        if (transpose && FloatLayers.HasAttribute(layer, "output_shape")) throw FloatLayers.Unsupported(layer, "it sets output_shape");
        for (int d = 0; d < 2; d++)
        {
            int extent = (ks[d] - 1) * dilations[d] + 1;
            if (strides[d] < 1 || dilations[d] < 1 || pads[d] < 0 || pads[d + 2] < 0) throw FloatLayers.Unsupported(layer, "its window geometry is invalid");
            if (transpose)
            {
                var outputPadding = FloatLayers.GetInts(layer, "output_padding");
                if (outputPadding is not null && outputPadding.Length != (oneD ? 1 : 2)) throw FloatLayers.Unsupported(layer, "'output_padding' does not match the rank");
                int outPad = outputPadding is null || (oneD && d == 0) ? 0 : outputPadding[oneD ? 0 : d];
                if (strides[d] * (xs[d] - 1) + outPad + extent - pads[d] - pads[d + 2] != ys[d]) throw FloatLayers.Unsupported(layer, "its output size does not match its geometry");
            }
            else if (xs[d] + pads[d] + pads[d + 2] < extent || (xs[d] + pads[d] + pads[d + 2] - extent) / strides[d] + 1 != ys[d])
                throw FloatLayers.Unsupported(layer, "its output size does not match its geometry");
        }
        return new FloatCall(op, FloatArgument.Operand(0), FloatArgument.Operand(1), FloatArgument.OptionalOperand(2), FloatArgument.Output(),
            FloatArgument.Int("n", x[0]), FloatArgument.Int("c", c), FloatArgument.Int("h", xs[0]), FloatArgument.Int("width", xs[1]),
            FloatArgument.Int("m", m), FloatArgument.Int("oh", ys[0]), FloatArgument.Int("ow", ys[1]),
            FloatArgument.Int("kh", ks[0]), FloatArgument.Int("kw", ks[1]), FloatArgument.Int("sh", strides[0]), FloatArgument.Int("sw", strides[1]),
            FloatArgument.Int("padTop", pads[0]), FloatArgument.Int("padLeft", pads[1]), FloatArgument.Int("dh", dilations[0]), FloatArgument.Int("dw", dilations[1]),
            FloatArgument.Int("group", group));
    }

    /// <summary>
    /// Resize, nearest or linear, as the operator computes it: per axis and output index the two input offsets and the
    /// (double) weight of the second, from the same coordinate transformation; the weights travel as the two 32-bit
    /// halves of their IEEE bits, so that the kernel multiplies exactly the operator's doubles.
    /// </summary>
    private static FloatCall Resize(ArtifactLayer layer, int opset, int[] x, int[] outShape)
    {
        var mode = FloatLayers.GetString(layer, "mode") ?? "nearest";
        if (mode != "nearest" && mode != "linear") throw FloatLayers.Unsupported(layer, $"mode '{mode}' has no float kernel");
        if (FloatLayers.GetInt(layer, "antialias", 0) != 0) throw FloatLayers.Unsupported(layer, "it antialiases");
        var transform = opset < 11 ? "asymmetric" : FloatLayers.GetString(layer, "coordinate_transformation_mode") ?? "half_pixel";
        var nearest = opset < 11 ? "floor" : FloatLayers.GetString(layer, "nearest_mode") ?? "round_prefer_floor";
        if ((FloatLayers.GetString(layer, "keep_aspect_ratio_policy") ?? "stretch") != "stretch") throw FloatLayers.Unsupported(layer, "its keep_aspect_ratio_policy is not stretch");
        int rank = x.Length;
        if (rank == 0 || outShape.Length != rank) throw FloatLayers.Unsupported(layer, "its rank does not match");
        // QuantGenFloatKernels.ResizeMaxRank: the kernel keeps the corners over all axes but the last on the stack.
        if (rank > 8) throw FloatLayers.Unsupported(layer, "it has more than 8 axes");
        var axes = FloatLayers.GetInts(layer, "axes") ?? Iota(rank);
        var scales = new double[rank];
        var output = (int[])x.Clone();
        for (int d = 0; d < rank; d++) scales[d] = 1;
        int scalesIndex = opset < 11 ? 1 : 2, sizesIndex = opset < 11 ? -1 : 3;
        for (int i = 1; i < FloatLayers.InputCount(layer); i++)
            if (FloatLayers.Source(layer, i) >= 0) throw FloatLayers.Unsupported(layer, "its scales or sizes are computed, not constants");
        var sizes = sizesIndex > 0 && sizesIndex < FloatLayers.InputCount(layer) ? FloatLayers.ConstantInts(layer, sizesIndex) : null;
        var given = scalesIndex < FloatLayers.InputCount(layer) ? FloatLayers.ConstantFloats(layer, scalesIndex) : null;
        if (sizes is { Length: > 0 })
        {
            if (sizes.Length != axes.Length) throw FloatLayers.Unsupported(layer, "its sizes do not match its axes");
            for (int i = 0; i < axes.Length; i++)
            {
                int d = axes[i] < 0 ? axes[i] + rank : axes[i];
                output[d] = sizes[i];
                scales[d] = (double)sizes[i] / x[d];
            }
        }
        else if (given is { Length: > 0 })
        {
            if (given.Length != axes.Length) throw FloatLayers.Unsupported(layer, "its scales do not match its axes");
            for (int i = 0; i < axes.Length; i++)
            {
                int d = axes[i] < 0 ? axes[i] + rank : axes[i];
                scales[d] = given[i];
                output[d] = (int)Math.Floor(x[d] * (double)given[i]);
            }
        }
        else throw FloatLayers.Unsupported(layer, "it has neither scales nor sizes");
        for (int d = 0; d < rank; d++)
            if (output[d] != outShape[d] || x[d] < 1) throw FloatLayers.Unsupported(layer, "its output shape does not match");
        var strides = Strides(x);
        var start = new int[rank];
        var lo = new List<int>();
        var hi = new List<int>();
        var bits = new List<int>();
        for (int d = 0; d < rank; d++)
        {
            start[d] = lo.Count;
            int inSize = x[d], outSize = output[d];
            for (int o = 0; o < outSize; o++)
            {
                double c = Original(layer, transform, o, scales[d], inSize, outSize), w = 0;
                int i0, i1;
                if (mode == "linear")
                {
                    c = Math.Max(0, Math.Min(inSize - 1, c));
                    i0 = (int)Math.Floor(c);
                    i1 = Math.Min(i0 + 1, inSize - 1);
                    w = c - i0;
                }
                else
                    i0 = i1 = Math.Max(0, Math.Min(inSize - 1, Nearest(layer, nearest, c)));
                lo.Add(i0 * strides[d]);
                hi.Add(i1 * strides[d]);
                long b = BitConverter.DoubleToInt64Bits(w);
                bits.Add((int)b);
                bits.Add((int)(b >> 32));
            }
        }
        return new FloatCall("Resize", FloatArgument.Operand(0), FloatArgument.Output(), FloatArgument.IntArray(output), FloatArgument.IntArray(start),
            FloatArgument.IntArray(lo.ToArray()), FloatArgument.IntArray(hi.ToArray()), FloatArgument.IntArray(bits.ToArray()));
    }

    private static double Original(ArtifactLayer layer, string transform, int o, double scale, int inSize, int outSize) => transform switch
    {
        "half_pixel" => (o + 0.5) / scale - 0.5,
        "pytorch_half_pixel" => outSize > 1 ? (o + 0.5) / scale - 0.5 : 0,
        "align_corners" => outSize == 1 ? 0 : o * (inSize - 1) / (inSize * scale - 1),
        "asymmetric" => o / scale,
        "tf_half_pixel_for_nearest" or "tf_half_pixel_for_nn" => (o + 0.5) / scale,
        "half_pixel_symmetric" => inSize / 2.0 * (1 - outSize / (scale * inSize)) + (o + 0.5) / scale - 0.5,
        _ => throw FloatLayers.Unsupported(layer, $"coordinate_transformation_mode '{transform}' has no float kernel"),
    };

    private static int Nearest(ArtifactLayer layer, string mode, double c) => mode switch
    {
        "round_prefer_floor" => c == Math.Floor(c) + 0.5 ? (int)Math.Floor(c) : (int)Math.Round(c, MidpointRounding.AwayFromZero),
        "round_prefer_ceil" => c == Math.Floor(c) + 0.5 ? (int)Math.Ceiling(c) : (int)Math.Round(c, MidpointRounding.AwayFromZero),
        "floor" => (int)Math.Floor(c),
        "ceil" => (int)Math.Ceiling(c),
        _ => throw FloatLayers.Unsupported(layer, $"nearest_mode '{mode}' is not valid"),
    };

    private static int[] Iota(int n)
    {
        var r = new int[n];
        for (int i = 0; i < n; i++) r[i] = i;
        return r;
    }

    private static FloatCall Strided(int[] shape, int[] strides, int offset) =>
        new("StridedCopy", FloatArgument.Operand(0), FloatArgument.Output(), FloatArgument.IntArray(shape.Length == 0 ? Scalar : shape),
            FloatArgument.IntArray(strides.Length == 0 ? Scalar : strides), FloatArgument.Int("offset", offset));

    private static List<FloatCall> One(FloatCall call) => new() { call };

    private static void Expect(ArtifactLayer layer, int[] shape, int[] outShape)
    {
        if (Product(shape, 0, shape.Length) != Product(outShape, 0, outShape.Length)) throw FloatLayers.Unsupported(layer, "its output shape does not match");
    }

    private static int[] Sub(int[] shape, int length)
    {
        var r = new int[length];
        Array.Copy(shape, r, length);
        return r;
    }

    private static int Product(int[] shape, int from, int to)
    {
        long p = 1;
        for (int i = from; i < to; i++) p *= shape[i];
        return p > int.MaxValue ? throw new ArtifactFormatException("A float layer's tensor has more than 2^31 elements.") : (int)p;
    }

    /// <summary>Row-major element strides.</summary>
    private static int[] Strides(int[] shape)
    {
        var strides = new int[shape.Length];
        for (int d = shape.Length - 1, s = 1; d >= 0; d--)
        {
            strides[d] = s;
            s *= shape[d];
        }
        return strides;
    }

    /// <summary>Strides of <paramref name="shape"/> aligned to <paramref name="output"/>'s rank, 0 where broadcast.</summary>
    private static int[] AlignedStrides(int[] shape, int[] output, ArtifactLayer layer)
    {
        var strides = new int[output.Length];
        int offset = output.Length - shape.Length, stride = 1;
        if (offset < 0) throw FloatLayers.Unsupported(layer, "an operand has a higher rank than the output");
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            if (shape[i] != 1 && shape[i] != output[i + offset]) throw FloatLayers.Unsupported(layer, "its operands do not broadcast to the output");
            strides[i + offset] = shape[i] == 1 && output[i + offset] != 1 ? 0 : stride;
            stride *= shape[i];
        }
        return strides;
    }
}
