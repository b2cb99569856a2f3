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

    /// <summary>
    /// Builds the geometry for an NC + spatial input. <paramref name="kernel"/> comes from the weights (Conv) or the
    /// attribute (pooling). Everything is validated in 64-bit against the ONNX definition before anything is sized
    /// (QG0040): strides and dilations ≥ 1, pads ≥ 0, the window extent (k − 1)·dilation + 1 within the padded input,
    /// an output of at least 1, and every position a window reads (o·stride − pad + k·dilation) inside 32-bit range,
    /// so that the executor's and the kernels' int arithmetic cannot wrap.
    /// </summary>
    public static SpatialGeometry Create(OpContext ctx, int[] input, int[]? kernel, bool allowCeil)
    {
        var node = ctx.Node;
        int rank = input.Length - 2;
        ctx.Require(rank >= 1, $"input must be at least 3-D (N, C, spatial…), got {ShapeMath.Format(input)}.");
        var spatial = input[2..];
        var declared = node.GetInts("kernel_shape");
        long[] kernel64 = kernel is not null ? Array.ConvertAll(kernel, k => (long)k)
            : declared ?? throw ctx.Error(ErrorCodes.InvalidAttribute, "kernel_shape is required.");
        if (kernel is not null && declared is not null)
            ctx.Require(declared.SequenceEqual(kernel64), "kernel_shape does not match the weights.");
        if (kernel64.Length != rank || kernel64.Any(k => k < 1 || k > int.MaxValue))
            throw ctx.Error(ErrorCodes.BadGeometry, $"kernel [{string.Join(",", kernel64)}] must have {rank} sizes from 1 to {int.MaxValue}.");
        var strides = Longs(ctx, "strides", rank, 1);
        var dilations = Longs(ctx, "dilations", rank, 1);
        if (strides.Any(s => s < 1 || s > int.MaxValue) || dilations.Any(d => d < 1 || d > int.MaxValue))
            throw ctx.Error(ErrorCodes.BadGeometry, $"strides [{string.Join(",", strides)}] and dilations [{string.Join(",", dilations)}] must be from 1 to {int.MaxValue}.");
        bool ceil = allowCeil && node.GetInt("ceil_mode", 0) != 0;

        var begin = new int[rank];
        var end = new int[rank];
        var output = new int[rank];
        var autoPad = node.GetString("auto_pad", "NOTSET");
        var pads = autoPad is "NOTSET" or "" ? node.GetInts("pads") : null;
        if (pads is not null && pads.Length != 2 * rank)
            throw ctx.Error(ErrorCodes.BadGeometry, $"pads must have {2 * rank} values.");
        for (int d = 0; d < rank; d++)
        {
            // At most 2^31 · 2^31: no 64-bit overflow.
            long span = (kernel64[d] - 1) * dilations[d] + 1, stride = strides[d], size = spatial[d];
            long padBegin = 0, padEnd = 0, count;
            switch (autoPad)
            {
                case "NOTSET":
                case "":
                case "VALID":
                    if (pads is not null)
                    {
                        padBegin = pads[d];
                        padEnd = pads[d + rank];
                        if (padBegin < 0 || padEnd < 0 || padBegin > int.MaxValue || padEnd > int.MaxValue)
                            throw ctx.Error(ErrorCodes.BadGeometry, $"pads [{string.Join(",", pads)}] must be from 0 to {int.MaxValue}.");
                    }
                    long available = size + padBegin + padEnd - span;
                    if (available < 0)
                        throw ctx.Error(ErrorCodes.BadGeometry,
                            $"the window extent ({span} = ({kernel64[d]} − 1)·{dilations[d]} + 1) is larger than the padded input ({size + padBegin + padEnd}) on spatial axis {d}.");
                    count = ceil ? (available + stride - 1) / stride + 1 : available / stride + 1;
                    // A ceil-mode window must start inside the input or its leading padding.
                    if (ceil && (count - 1) * stride >= size + padBegin) count--;
                    break;
                case "SAME_UPPER":
                case "SAME_LOWER":
                {
                    count = (size + stride - 1) / stride;
                    long total = Math.Max(0, (count - 1) * stride + span - size);
                    long small = total / 2, large = total - small;
                    (padBegin, padEnd) = autoPad == "SAME_UPPER" ? (small, large) : (large, small);
                    break;
                }
                default:
                    throw ctx.Error(ErrorCodes.InvalidAttribute, $"auto_pad '{autoPad}' is not valid.");
            }
            // Every position a window reads lies in [−padBegin, (count − 1)·stride − padBegin + span − 1]; keep the whole
            // range, and one more stride, inside int so index arithmetic never wraps.
            long last = (count - 1) * stride + span + stride;
            if (count < 1 || last > int.MaxValue || size + padBegin + padEnd > int.MaxValue)
                throw ctx.Error(ErrorCodes.BadGeometry,
                    $"spatial axis {d}: input {size}, window extent {span}, stride {stride}, pads {padBegin}+{padEnd} give {count} outputs reaching position {last}, outside 32-bit indexing.");
            begin[d] = (int)padBegin;
            end[d] = (int)padEnd;
            output[d] = (int)count;
        }
        var k32 = Array.ConvertAll(kernel64, k => (int)k);
        ctx.RequireScratch(ResourceBudget.Product(k32.Select(k => (long)k).ToArray()), "the window");
        return new SpatialGeometry { Input = spatial, Kernel = k32, Strides = Array.ConvertAll(strides, v => (int)v), Dilations = Array.ConvertAll(dilations, v => (int)v), PadBegin = begin, PadEnd = end, Output = output };
    }

    /// <summary>An ints attribute with <paramref name="rank"/> values (64-bit, as in the file), or the fallback.</summary>
    public static long[] Longs(OpContext ctx, string name, int rank, long fallback)
    {
        var values = ctx.Node.GetInts(name);
        if (values is null) return Enumerable.Repeat(fallback, rank).ToArray();
        if (values.Length != rank) throw ctx.Error(ErrorCodes.BadGeometry, $"{name} must have {rank} values.");
        return values;
    }

    /// <summary>
    /// For every output position (row-major) and kernel offset (row-major), the flat input index within one
    /// channel plane, or −1 where the window reads padding. Shape [OutputSize, KernelSize].
    /// </summary>
    public int[] WindowIndices(OpContext ctx)
    {
        ctx.RequireScratch(ResourceBudget.Product(OutputSize, KernelSize), "the window index map");
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
