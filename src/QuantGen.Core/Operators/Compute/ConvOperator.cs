using QuantGen.Core.Ir;
using Tensor = QuantGen.Core.Ir.Tensor;

namespace QuantGen.Core.Operators;

/// <summary>
/// Conv over 1-3 spatial dims, grouped and depthwise, by im2col + GEMM per group (padding gathered as zeros), with
/// a direct path for depthwise convolution where im2col would only copy.
/// </summary>
internal sealed class ConvOperator : Operator
{
    public override string OpType => "Conv";

    private static (SpatialGeometry Geometry, int Group, int OutChannels) Validate(OpContext ctx, TensorInfo x, TensorInfo w, TensorInfo? b)
    {
        Op.RequireType(ctx, x.DataType, DataType.Float);
        ctx.Require(w.DataType == DataType.Float && w.Rank == x.Rank, $"weights {w} must be float with the input's rank {x.Rank}.");
        ctx.Require(x.Rank >= 3, $"input must be at least 3-D (N, C, spatial…), got {x}.");
        int group = Op.Int(ctx, "group", 1, 1, int.MaxValue);
        ctx.Require(x.Shape[1] % group == 0 && w.Shape[0] % group == 0, $"group {group} must divide the input ({x.Shape[1]}) and output ({w.Shape[0]}) channels.");
        ctx.Require(w.Shape[1] * group == x.Shape[1], $"weights expect {w.Shape[1] * group} input channels, the input has {x.Shape[1]}.");
        if (b is { } bias) ctx.Require(bias.Rank == 1 && bias.Shape[0] == w.Shape[0], $"bias must be [{w.Shape[0]}].");
        var geometry = SpatialGeometry.Create(ctx, x.Shape, w.Shape[2..], allowCeil: false);
        return (geometry, group, w.Shape[0]);
    }

    public override TensorInfo[] InferOutputs(OpContext ctx, IReadOnlyList<TensorInfo?> inputs, IReadOnlyList<Tensor?> constants)
    {
        var x = Op.Required(ctx, inputs, 0, "X");
        var (geometry, _, m) = Validate(ctx, x, Op.Required(ctx, inputs, 1, "W"), Op.Optional(inputs, 2));
        return Op.One(DataType.Float, [x.Shape[0], m, .. geometry.Output]);
    }

    public override Tensor[] Execute(OpContext ctx, IReadOnlyList<Tensor?> inputs)
    {
        var x = Op.Required(ctx, inputs, 0, "X");
        var w = Op.Required(ctx, inputs, 1, "W");
        var b = Op.Optional(inputs, 2);
        var (g, group, m) = Validate(ctx, x.Info, w.Info, b?.Info);
        int n = x.Shape[0], c = x.Shape[1], cg = c / group, mg = m / group;
        int inPlane = g.Input.Aggregate(1, (p, d) => p * d), outPlane = g.OutputSize, kSize = g.KernelSize;
        var y = Tensor.Zeros(DataType.Float, [n, m, .. g.Output]);
        ReadOnlySpan<float> xs = x.AsSpan<float>(), ws = w.AsSpan<float>();
        var ys = y.AsSpan<float>();
        var window = g.WindowIndices(ctx);

        if (cg == 1 && mg == 1)
        {
            Depthwise(xs, ws, ys, window, n, c, inPlane, outPlane, kSize);
        }
        else
        {
            int kRows = cg * kSize;
            ctx.RequireScratch(ResourceBudget.Product(kRows, outPlane), "the im2col buffer");
            var columns = new float[checked(kRows * outPlane)];
            for (int batch = 0; batch < n; batch++)
                for (int grp = 0; grp < group; grp++)
                {
                    // im2col: row (ci, k), column = output position.
                    for (int ci = 0; ci < cg; ci++)
                    {
                        var plane = xs.Slice((batch * c + grp * cg + ci) * inPlane, inPlane);
                        for (int ki = 0; ki < kSize; ki++)
                        {
                            var row = columns.AsSpan((ci * kSize + ki) * outPlane, outPlane);
                            for (int o = 0; o < outPlane; o++)
                            {
                                int index = window[o * kSize + ki];
                                row[o] = index < 0 ? 0f : plane[index];
                            }
                        }
                    }
                    Gemm.MultiplyAdd(ws.Slice(grp * mg * kRows, mg * kRows), columns, ys.Slice((batch * m + grp * mg) * outPlane, mg * outPlane), mg, kRows, outPlane);
                }
        }

        if (b is not null)
        {
            var bias = b.AsSpan<float>();
            for (int batch = 0; batch < n; batch++)
                for (int o = 0; o < m; o++)
                    System.Numerics.Tensors.TensorPrimitives.Add(ys.Slice((batch * m + o) * outPlane, outPlane), bias[o], ys.Slice((batch * m + o) * outPlane, outPlane));
        }
        return [y];
    }

    private static void Depthwise(ReadOnlySpan<float> x, ReadOnlySpan<float> w, Span<float> y, int[] window, int n, int c, int inPlane, int outPlane, int kSize)
    {
        for (int batch = 0; batch < n; batch++)
            for (int ch = 0; ch < c; ch++)
            {
                var plane = x.Slice((batch * c + ch) * inPlane, inPlane);
                var kernel = w.Slice(ch * kSize, kSize);
                var output = y.Slice((batch * c + ch) * outPlane, outPlane);
                for (int o = 0; o < outPlane; o++)
                {
                    float acc = 0;
                    for (int ki = 0; ki < kSize; ki++)
                    {
                        int index = window[o * kSize + ki];
                        if (index >= 0) acc += kernel[ki] * plane[index];
                    }
                    output[o] = acc;
                }
            }
    }
}

/// <summary>ConvTranspose over 1-3 spatial dims: the input scattered through the kernel, with output_padding / output_shape / auto_pad.</summary>
internal sealed class ConvTransposeOperator : Operator
{
    public override string OpType => "ConvTranspose";

    private sealed record Plan(int[] Kernel, int[] Strides, int[] Dilations, int[] PadBegin, int[] Output, int Group, int OutChannels);

    private static Plan MakePlan(OpContext ctx, TensorInfo x, TensorInfo w, TensorInfo? b)
    {
        Op.RequireType(ctx, x.DataType, DataType.Float);
        int rank = x.Rank - 2;
        ctx.Require(rank >= 1 && w.Rank == x.Rank, "input and weights must be N-D with the same rank ≥ 3.");
        int group = Op.Int(ctx, "group", 1, 1, int.MaxValue);
        ctx.Require(x.Shape[1] == w.Shape[0] && x.Shape[1] % group == 0, $"weights [{w.Shape[0]},…] do not match {x.Shape[1]} input channels in {group} groups.");
        int m = w.Shape[1] * group;
        if (b is { } bias) ctx.Require(bias.Rank == 1 && bias.Shape[0] == m, $"bias must be [{m}].");
        var kernel = w.Shape[2..];
        if (kernel.Any(k => k < 1)) throw ctx.Error(ErrorCodes.BadGeometry, $"kernel [{string.Join(",", kernel)}] must be positive.");
        var strides = SpatialGeometry.Longs(ctx, "strides", rank, 1);
        var dilations = SpatialGeometry.Longs(ctx, "dilations", rank, 1);
        var outputPadding = SpatialGeometry.Longs(ctx, "output_padding", rank, 0);
        if (strides.Any(s => s < 1 || s > int.MaxValue) || dilations.Any(v => v < 1 || v > int.MaxValue))
            throw ctx.Error(ErrorCodes.BadGeometry, $"strides [{string.Join(",", strides)}] and dilations [{string.Join(",", dilations)}] must be from 1 to {int.MaxValue}.");
        for (int d = 0; d < rank; d++)
            if (outputPadding[d] < 0 || outputPadding[d] >= Math.Max(strides[d], dilations[d]))
                throw ctx.Error(ErrorCodes.BadGeometry, $"output_padding [{string.Join(",", outputPadding)}] must be non-negative and below the stride or the dilation.");
        var begin = new int[rank];
        var end = new int[rank];
        var output = new int[rank];
        var pads = ctx.Node.GetInts("pads");
        var outputShape = ctx.Node.GetInts("output_shape");
        var autoPad = ctx.Node.GetString("auto_pad", "NOTSET");
        if (pads is not null && pads.Length != 2 * rank) throw ctx.Error(ErrorCodes.BadGeometry, $"pads must have {2 * rank} values.");
        if (outputShape is not null && outputShape.Length < rank) throw ctx.Error(ErrorCodes.BadGeometry, $"output_shape must have at least {rank} values.");
        for (int d = 0; d < rank; d++)
        {
            // 64-bit, each term below 2^62: no wrap.
            long full = strides[d] * (x.Shape[d + 2] - 1L) + outputPadding[d] + (kernel[d] - 1L) * dilations[d] + 1;
            long padBegin = 0, padEnd = 0, size;
            if (outputShape is not null || autoPad is "SAME_UPPER" or "SAME_LOWER")
            {
                long target = outputShape is not null ? outputShape[outputShape.Length - rank + d] : x.Shape[d + 2] * strides[d];
                if (target < 1 || target > int.MaxValue)
                    throw ctx.Error(ErrorCodes.BadGeometry, $"spatial axis {d}: the output size {target} must be from 1 to {int.MaxValue}.");
                long total = Math.Max(0, full - target);
                // ConvTranspose puts the odd padding unit at the start for SAME_UPPER (the reverse of Conv).
                (padBegin, padEnd) = autoPad == "SAME_UPPER" ? (total / 2, total - total / 2) : (total - total / 2, total / 2);
                size = target;
            }
            else
            {
                if (pads is not null)
                {
                    padBegin = pads[d];
                    padEnd = pads[d + rank];
                    if (padBegin < 0 || padEnd < 0)
                        throw ctx.Error(ErrorCodes.BadGeometry, $"pads [{string.Join(",", pads)}] must be non-negative.");
                }
                size = full - padBegin - padEnd;
            }
            if (size < 1)
                throw ctx.Error(ErrorCodes.BadGeometry, $"spatial axis {d}: the output would have {size} positions.");
            // Every position the scatter computes lies in [−padBegin, full − padBegin): keep it, and the output, in int.
            if (full + Stride(d) > int.MaxValue || size > int.MaxValue || padBegin > int.MaxValue)
                throw ctx.Error(ErrorCodes.BadGeometry,
                    $"spatial axis {d}: input {x.Shape[d + 2]}, stride {strides[d]}, kernel {kernel[d]}, dilation {dilations[d]} give an extent of {full}, outside 32-bit indexing.");
            begin[d] = (int)padBegin;
            end[d] = (int)padEnd;
            output[d] = (int)size;
        }
        long Stride(int d) => strides[d];
        return new Plan(kernel, Array.ConvertAll(strides, v => (int)v), Array.ConvertAll(dilations, v => (int)v), begin, output, group, m);
    }

    public override TensorInfo[] InferOutputs(OpContext ctx, IReadOnlyList<TensorInfo?> inputs, IReadOnlyList<Tensor?> constants)
    {
        var x = Op.Required(ctx, inputs, 0, "X");
        var plan = MakePlan(ctx, x, Op.Required(ctx, inputs, 1, "W"), Op.Optional(inputs, 2));
        return Op.One(DataType.Float, [x.Shape[0], plan.OutChannels, .. plan.Output]);
    }

    public override Tensor[] Execute(OpContext ctx, IReadOnlyList<Tensor?> inputs)
    {
        var x = Op.Required(ctx, inputs, 0, "X");
        var w = Op.Required(ctx, inputs, 1, "W");
        var b = Op.Optional(inputs, 2);
        var p = MakePlan(ctx, x.Info, w.Info, b?.Info);
        int rank = p.Kernel.Length, n = x.Shape[0], c = x.Shape[1], cg = c / p.Group, mg = p.OutChannels / p.Group;
        var inSpatial = x.Shape[2..];
        int inPlane = inSpatial.Aggregate(1, (a, d) => a * d), outPlane = p.Output.Aggregate(1, (a, d) => a * d), kSize = p.Kernel.Aggregate(1, (a, d) => a * d);
        var y = Tensor.Zeros(DataType.Float, [n, p.OutChannels, .. p.Output]);
        ReadOnlySpan<float> xs = x.AsSpan<float>(), ws = w.AsSpan<float>();
        var ys = y.AsSpan<float>();

        // For every (input position, kernel offset) pair, the output position it lands on, or −1 outside.
        ctx.RequireScratch(ResourceBudget.Product(inPlane, kSize), "the scatter map");
        var target = new int[checked(inPlane * kSize)];
        var i = new int[rank];
        var k = new int[rank];
        for (int ii = 0; ii < inPlane; ii++)
        {
            Array.Clear(k);
            for (int ki = 0; ki < kSize; ki++)
            {
                int flat = 0;
                bool inside = true;
                for (int d = 0; d < rank; d++)
                {
                    int pos = i[d] * p.Strides[d] - p.PadBegin[d] + k[d] * p.Dilations[d];
                    if (pos < 0 || pos >= p.Output[d]) { inside = false; break; }
                    flat = flat * p.Output[d] + pos;
                }
                target[ii * kSize + ki] = inside ? flat : -1;
                for (int d = rank - 1; d >= 0 && ++k[d] >= p.Kernel[d]; d--) k[d] = 0;
            }
            for (int d = rank - 1; d >= 0 && ++i[d] >= inSpatial[d]; d--) i[d] = 0;
        }

        for (int batch = 0; batch < n; batch++)
            for (int grp = 0; grp < p.Group; grp++)
                for (int ci = 0; ci < cg; ci++)
                {
                    int ic = grp * cg + ci;
                    var plane = xs.Slice((batch * c + ic) * inPlane, inPlane);
                    for (int mo = 0; mo < mg; mo++)
                    {
                        var kernel = ws.Slice((ic * mg + mo) * kSize, kSize);
                        var output = ys.Slice((batch * p.OutChannels + grp * mg + mo) * outPlane, outPlane);
                        for (int ii = 0; ii < inPlane; ii++)
                        {
                            float v = plane[ii];
                            for (int ki = 0; ki < kSize; ki++)
                            {
                                int o = target[ii * kSize + ki];
                                if (o >= 0) output[o] += v * kernel[ki];
                            }
                        }
                    }
                }
        if (b is not null)
        {
            var bias = b.AsSpan<float>();
            for (int batch = 0; batch < n; batch++)
                for (int o = 0; o < p.OutChannels; o++)
                {
                    var output = ys.Slice((batch * p.OutChannels + o) * outPlane, outPlane);
                    System.Numerics.Tensors.TensorPrimitives.Add(output, bias[o], output);
                }
        }
        return [y];
    }
}
