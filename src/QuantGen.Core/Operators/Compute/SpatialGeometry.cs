using QuantGen.Core.Ir;

namespace QuantGen.Core.Operators;

/// <summary>
/// The window geometry of a Conv or pooling node over N spatial dimensions: kernel, strides, dilations, explicit
/// pads (auto_pad resolved) and output size, validated once and shared by inference and execution.
/// </summary>
internal sealed class SpatialGeometry
{
    public required int[] Input { get; init; }
    public required int[] Kernel { get; init; }
    public required int[] Strides { get; init; }
    public required int[] Dilations { get; init; }
    /// <summary>Padding before each spatial dimension.</summary>
    public required int[] PadBegin { get; init; }
    public required int[] PadEnd { get; init; }
    public required int[] Output { get; init; }

    public int Rank => Input.Length;

    public int OutputSize => Output.Aggregate(1, (p, d) => checked(p * d));

    public int KernelSize => Kernel.Aggregate(1, (p, d) => checked(p * d));

    /// <summary>Builds the geometry for an NC + spatial input. <paramref name="kernel"/> comes from the weights (Conv) or the attribute (pooling).</summary>
    public static SpatialGeometry Create(OpContext ctx, int[] input, int[]? kernel, bool allowCeil)
    {
        var node = ctx.Node;
        int rank = input.Length - 2;
        ctx.Require(rank >= 1, $"input must be at least 3-D (N, C, spatial…), got {ShapeMath.Format(input)}.");
        var spatial = input[2..];
        kernel ??= node.GetInts("kernel_shape") is { } ks ? Op.IntArray(ks) : throw ctx.Error(ErrorCodes.InvalidAttribute, "kernel_shape is required.");
        if (node.GetInts("kernel_shape") is { } declared)
            ctx.Require(declared.Length == rank && declared.Select(v => (int)v).SequenceEqual(kernel), "kernel_shape does not match the weights.");
        ctx.Require(kernel.Length == rank && kernel.All(k => k > 0), $"kernel [{string.Join(",", kernel)}] must have {rank} positive sizes.");
        var strides = Ints(ctx, "strides", rank, 1);
        var dilations = Ints(ctx, "dilations", rank, 1);
        ctx.Require(strides.All(s => s > 0) && dilations.All(d => d > 0), "strides and dilations must be positive.");
        bool ceil = allowCeil && node.GetInt("ceil_mode", 0) != 0;

        var begin = new int[rank];
        var end = new int[rank];
        var output = new int[rank];
        var autoPad = node.GetString("auto_pad", "NOTSET");
        for (int d = 0; d < rank; d++)
        {
            int span = (kernel[d] - 1) * dilations[d] + 1;
            switch (autoPad)
            {
                case "NOTSET":
                case "":
                {
                    var pads = node.GetInts("pads");
                    if (pads is not null)
                    {
                        ctx.Require(pads.Length == 2 * rank, $"pads must have {2 * rank} values.");
                        begin[d] = checked((int)pads[d]);
                        end[d] = checked((int)pads[d + rank]);
                        ctx.Require(begin[d] >= 0 && end[d] >= 0, "pads must be non-negative.");
                    }
                    long available = (long)spatial[d] + begin[d] + end[d] - span;
                    ctx.Require(available >= 0, $"the window ({span}) is larger than the padded input ({spatial[d] + begin[d] + end[d]}) on spatial axis {d}.");
                    long count = ceil ? (available + strides[d] - 1) / strides[d] + 1 : available / strides[d] + 1;
                    // A ceil-mode window must start inside the input or its leading padding.
                    if (ceil && (count - 1) * strides[d] >= spatial[d] + begin[d]) count--;
                    output[d] = checked((int)count);
                    break;
                }
                case "VALID":
                    ctx.Require(spatial[d] >= span, $"the window ({span}) is larger than the input ({spatial[d]}).");
                    output[d] = (spatial[d] - span) / strides[d] + 1;
                    break;
                case "SAME_UPPER":
                case "SAME_LOWER":
                {
                    output[d] = (spatial[d] + strides[d] - 1) / strides[d];
                    int total = Math.Max(0, (output[d] - 1) * strides[d] + span - spatial[d]);
                    int small = total / 2, large = total - small;
                    (begin[d], end[d]) = autoPad == "SAME_UPPER" ? (small, large) : (large, small);
                    break;
                }
                default:
                    throw ctx.Error(ErrorCodes.InvalidAttribute, $"auto_pad '{autoPad}' is not valid.");
            }
        }
        return new SpatialGeometry { Input = spatial, Kernel = kernel, Strides = strides, Dilations = dilations, PadBegin = begin, PadEnd = end, Output = output };
    }

    public static int[] Ints(OpContext ctx, string name, int rank, int fallback)
    {
        var values = ctx.Node.GetInts(name);
        if (values is null) return Enumerable.Repeat(fallback, rank).ToArray();
        ctx.Require(values.Length == rank, $"{name} must have {rank} values.");
        return Op.IntArray(values);
    }

    /// <summary>
    /// For every output position (row-major) and kernel offset (row-major), the flat input index within one
    /// channel plane, or −1 where the window reads padding. Shape [OutputSize, KernelSize].
    /// </summary>
    public int[] WindowIndices()
    {
        int outSize = OutputSize, kSize = KernelSize;
        var map = new int[checked(outSize * kSize)];
        var o = new int[Rank];
        var k = new int[Rank];
        for (int oi = 0; oi < outSize; oi++)
        {
            Array.Clear(k);
            for (int ki = 0; ki < kSize; ki++)
            {
                int flat = 0;
                bool inside = true;
                for (int d = 0; d < Rank; d++)
                {
                    int pos = o[d] * Strides[d] - PadBegin[d] + k[d] * Dilations[d];
                    if (pos < 0 || pos >= Input[d]) { inside = false; break; }
                    flat = flat * Input[d] + pos;
                }
                map[oi * kSize + ki] = inside ? flat : -1;
                Increment(k, Kernel);
            }
            Increment(o, Output);
        }
        return map;
    }

    private static void Increment(int[] index, int[] limits)
    {
        for (int d = index.Length - 1; d >= 0; d--)
        {
            if (++index[d] < limits[d]) return;
            index[d] = 0;
        }
    }
}
