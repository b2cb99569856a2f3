using QuantGen.Core.Ir;
using Tensor = QuantGen.Core.Ir.Tensor;

namespace QuantGen.Core.Operators;

/// <summary>
/// Resize, modes nearest and linear (multilinear over every resized axis), all coordinate transformations but
/// tf_crop_and_resize, all nearest modes. Opset 10's form (X, scales) behaves as asymmetric / floor. Cubic,
/// antialias and aspect-ratio policies other than stretch are QG0014.
/// </summary>
internal sealed class ResizeOperator : Operator
{
    public override string OpType => "Resize";

    private sealed record Plan(int[] Output, double[] Scales);

    private static Plan MakePlan(OpContext ctx, TensorInfo x, Func<int, Tensor?> constant)
    {
        var node = ctx.Node;
        var mode = node.GetString("mode", "nearest");
        if (mode is not ("nearest" or "linear"))
            throw ctx.Error(ErrorCodes.UnsupportedAttributeValue, $"mode '{mode}' is not supported (nearest and linear are).");
        if (node.GetInt("antialias", 0) != 0) throw ctx.Error(ErrorCodes.UnsupportedAttributeValue, "antialias is not supported.");
        if (node.GetString("coordinate_transformation_mode", "half_pixel") == "tf_crop_and_resize")
            throw ctx.Error(ErrorCodes.UnsupportedAttributeValue, "coordinate_transformation_mode tf_crop_and_resize is not supported.");
        if (node.GetString("keep_aspect_ratio_policy", "stretch") != "stretch")
            throw ctx.Error(ErrorCodes.UnsupportedAttributeValue, "keep_aspect_ratio_policy other than stretch is not supported.");

        int rank = x.Rank;
        var axes = node.GetInts("axes") is { } ax ? ax.Select(a => ShapeMath.NormalizeAxis(a, rank, "axes")).ToArray() : Enumerable.Range(0, rank).ToArray();
        var scales = Enumerable.Repeat(1.0, rank).ToArray();
        var output = (int[])x.Shape.Clone();
        Tensor? scalesTensor = ctx.Opset < 11 ? constant(1) : constant(2);
        Tensor? sizesTensor = ctx.Opset < 11 ? null : constant(3);
        bool hasScalesInput = ctx.Opset < 11 ? node.HasInput(1) : node.HasInput(2);
        bool hasSizesInput = ctx.Opset >= 11 && node.HasInput(3);
        if (hasScalesInput && scalesTensor is null || hasSizesInput && sizesTensor is null)
            throw ctx.Error(ErrorCodes.BadShape, "scales/sizes must be a constant for static shape inference.");

        if (sizesTensor is not null && sizesTensor.Length > 0)
        {
            var sizes = sizesTensor.ToInt64Array();
            ctx.Require(sizes.Length == axes.Length, $"sizes has {sizes.Length} values for {axes.Length} axes.");
            for (int i = 0; i < axes.Length; i++)
            {
                if (sizes[i] < 1 || sizes[i] > int.MaxValue || x.Shape[axes[i]] < 1)
                    throw ctx.Error(ErrorCodes.BadGeometry, $"sizes [{string.Join(",", sizes)}] must be from 1 to {int.MaxValue}, on a non-empty input.");
                output[axes[i]] = (int)sizes[i];
                scales[axes[i]] = (double)sizes[i] / x.Shape[axes[i]];
            }
        }
        else if (scalesTensor is not null && scalesTensor.Length > 0)
        {
            var s = scalesTensor.ToFloatArray();
            ctx.Require(s.Length == axes.Length, $"scales has {s.Length} values for {axes.Length} axes.");
            for (int i = 0; i < axes.Length; i++)
            {
                double size = Math.Floor(x.Shape[axes[i]] * (double)s[i]);
                // NaN fails every comparison: the negated test refuses it too.
                if (!(s[i] > 0 && float.IsFinite(s[i]) && size >= 1 && size <= int.MaxValue))
                    throw ctx.Error(ErrorCodes.BadGeometry, $"scale {s[i].ToString("R", System.Globalization.CultureInfo.InvariantCulture)} on axis {axes[i]} (size {x.Shape[axes[i]]}) must be finite and positive and give an output from 1 to {int.MaxValue}.");
                scales[axes[i]] = s[i];
                output[axes[i]] = (int)size;
            }
        }
        else
        {
            throw ctx.Error(ErrorCodes.InvalidAttribute, "needs scales or sizes.");
        }
        ctx.RequireScratch(ResourceBudget.Product(Array.ConvertAll(output, v => (long)v)), $"the output {ShapeMath.Format(output)}");
        return new Plan(output, scales);
    }

    public override TensorInfo[] InferOutputs(OpContext ctx, IReadOnlyList<TensorInfo?> inputs, IReadOnlyList<Tensor?> constants)
    {
        var x = Op.Required(ctx, inputs, 0, "X");
        Op.RequireType(ctx, x.DataType, DataType.Float);
        return Op.One(x.DataType, MakePlan(ctx, x, i => Op.Optional(constants, i)).Output);
    }

    public override Tensor[] Execute(OpContext ctx, IReadOnlyList<Tensor?> inputs)
    {
        var x = Op.Required(ctx, inputs, 0, "X");
        Op.RequireType(ctx, x.DataType, DataType.Float);
        var plan = MakePlan(ctx, x.Info, i => Op.Optional(inputs, i));
        var node = ctx.Node;
        bool linear = node.GetString("mode", "nearest") == "linear";
        string transform = ctx.Opset < 11 ? "asymmetric" : node.GetString("coordinate_transformation_mode", "half_pixel");
        string nearestMode = ctx.Opset < 11 ? "floor" : node.GetString("nearest_mode", "round_prefer_floor");
        int rank = x.Rank;

        // Per axis and output index: the two input indices and the weight of the second.
        var lo = new int[rank][];
        var hi = new int[rank][];
        var weight = new double[rank][];
        for (int d = 0; d < rank; d++)
        {
            int inSize = x.Shape[d], outSize = plan.Output[d];
            lo[d] = new int[outSize];
            hi[d] = new int[outSize];
            weight[d] = new double[outSize];
            for (int o = 0; o < outSize; o++)
            {
                double c = Original(ctx, transform, o, plan.Scales[d], inSize, outSize);
                if (linear)
                {
                    c = Math.Clamp(c, 0, inSize - 1);
                    int i0 = (int)Math.Floor(c);
                    lo[d][o] = i0;
                    hi[d][o] = Math.Min(i0 + 1, inSize - 1);
                    weight[d][o] = c - i0;
                }
                else
                {
                    int i = Nearest(ctx, nearestMode, c, plan.Scales[d] > 1);
                    lo[d][o] = hi[d][o] = Math.Clamp(i, 0, inSize - 1);
                }
            }
        }

        var y = Tensor.Zeros(DataType.Float, plan.Output);
        ReadOnlySpan<float> xs = x.AsSpan<float>();
        var ys = y.AsSpan<float>();
        var strides = ShapeMath.Strides(x.Shape);
        var index = new int[rank];
        for (int o = 0; o < ys.Length; o++)
        {
            // Multilinear: sum over the 2^rank corners (weights 0 drop out; nearest has lo == hi).
            double value = 0;
            for (int corner = 0; corner < 1 << rank; corner++)
            {
                double w = 1;
                int offset = 0;
                for (int d = 0; d < rank && w != 0; d++)
                {
                    bool upper = (corner >> d & 1) != 0;
                    double wd = upper ? weight[d][index[d]] : 1 - weight[d][index[d]];
                    w *= wd;
                    offset += (upper ? hi[d][index[d]] : lo[d][index[d]]) * strides[d];
                }
                if (w != 0) value += w * xs[offset];
            }
            ys[o] = (float)value;
            for (int d = rank - 1; d >= 0 && ++index[d] >= plan.Output[d]; d--) index[d] = 0;
        }
        return [y];
    }

    private static double Original(OpContext ctx, string transform, int o, double scale, int inSize, int outSize) => transform switch
    {
        "half_pixel" => (o + 0.5) / scale - 0.5,
        "pytorch_half_pixel" => outSize > 1 ? (o + 0.5) / scale - 0.5 : 0,
        // ONNX uses the unrounded resized length (input · scale) here, not the integer output size.
        "align_corners" => outSize == 1 ? 0 : o * (inSize - 1) / (inSize * scale - 1),
        "asymmetric" => o / scale,
        "tf_half_pixel_for_nearest" or "tf_half_pixel_for_nn" => (o + 0.5) / scale, // the second is the name older ONNX releases used
        "half_pixel_symmetric" => HalfPixelSymmetric(o, scale, inSize, outSize),
        _ => throw ctx.Error(ErrorCodes.UnsupportedAttributeValue, $"coordinate_transformation_mode '{transform}' is not supported."),
    };

    private static double HalfPixelSymmetric(int o, double scale, int inSize, int outSize)
    {
        double adjustment = outSize / (scale * inSize);
        double center = inSize / 2.0;
        double offset = center * (1 - adjustment);
        return offset + (o + 0.5) / scale - 0.5;
    }

    private static int Nearest(OpContext ctx, string mode, double c, bool upsampling) => mode switch
    {
        "round_prefer_floor" => c == Math.Floor(c) + 0.5 ? (int)Math.Floor(c) : (int)Math.Round(c, MidpointRounding.AwayFromZero),
        "round_prefer_ceil" => c == Math.Floor(c) + 0.5 ? (int)Math.Ceiling(c) : (int)Math.Round(c, MidpointRounding.AwayFromZero),
        "floor" => (int)Math.Floor(c),
        "ceil" => (int)Math.Ceiling(c),
        _ => throw ctx.Error(ErrorCodes.InvalidAttribute, $"nearest_mode '{mode}' is not valid."),
    };
}

/// <summary>Pad: modes constant, reflect, edge; pads as attribute (opset &lt; 11) or input, optional axes (18); negative pads crop.</summary>
internal sealed class PadOperator : Operator
{
    public override string OpType => "Pad";

    private static (int[] Begin, int[] End, int[] Output) MakePlan(OpContext ctx, TensorInfo x, Func<int, Tensor?> constant)
    {
        int rank = x.Rank;
        long[] pads = ctx.Opset < 11
            ? ctx.Node.GetInts("pads") ?? ctx.Node.GetInts("paddings") ?? throw ctx.Error(ErrorCodes.InvalidAttribute, "pads is required.")
            : (constant(1) ?? throw ctx.Error(ErrorCodes.BadShape, "pads must be a constant.")).ToInt64Array();
        var axes = ctx.Opset >= 18 && ctx.Node.HasInput(3)
            ? (constant(3) ?? throw ctx.Error(ErrorCodes.BadShape, "axes must be a constant.")).ToInt64Array().Select(a => ShapeMath.NormalizeAxis(a, rank, "axes")).ToArray()
            : Enumerable.Range(0, rank).ToArray();
        ctx.Require(pads.Length == 2 * axes.Length, $"pads has {pads.Length} values for {axes.Length} axes.");
        var begin = new int[rank];
        var end = new int[rank];
        var output = (int[])x.Shape.Clone();
        for (int i = 0; i < axes.Length; i++)
        {
            int d = axes[i];
            long before = pads[i], after = pads[i + axes.Length];
            if (before < int.MinValue || before > int.MaxValue || after < int.MinValue || after > int.MaxValue)
                throw ctx.Error(ErrorCodes.BadGeometry, $"pads [{string.Join(",", pads)}] must fit 32 bits.");
            long size = x.Shape[d] + before + after;
            ctx.Require(size >= 0, $"pads crop more than axis {d} holds.");
            if (size > int.MaxValue) throw ctx.Error(ErrorCodes.BadGeometry, $"pads make axis {d} {size} long.");
            (begin[d], end[d], output[d]) = ((int)before, (int)after, (int)size);
        }
        ctx.RequireScratch(ResourceBudget.Product(Array.ConvertAll(output, v => (long)v)), $"the output {ShapeMath.Format(output)}");
        return (begin, end, output);
    }

    public override TensorInfo[] InferOutputs(OpContext ctx, IReadOnlyList<TensorInfo?> inputs, IReadOnlyList<Tensor?> constants)
    {
        var x = Op.Required(ctx, inputs, 0, "data");
        Mode(ctx);
        return Op.One(x.DataType, MakePlan(ctx, x, i => Op.Optional(constants, i)).Output);
    }

    private static string Mode(OpContext ctx)
    {
        var mode = ctx.Node.GetString("mode", "constant");
        if (mode == "wrap") throw ctx.Error(ErrorCodes.UnsupportedAttributeValue, "mode 'wrap' is not supported.");
        if (mode is not ("constant" or "reflect" or "edge")) throw ctx.Error(ErrorCodes.InvalidAttribute, $"mode '{mode}' is not valid.");
        return mode;
    }

    public override Tensor[] Execute(OpContext ctx, IReadOnlyList<Tensor?> inputs)
    {
        var x = Op.Required(ctx, inputs, 0, "data");
        var mode = Mode(ctx);
        var (begin, _, output) = MakePlan(ctx, x.Info, i => Op.Optional(inputs, i));
        double value = ctx.Opset < 11 ? ctx.Node.GetFloat("value", 0f) : Op.Optional(inputs, 2) is { Length: > 0 } v ? v.Data switch
        {
            float[] f => f[0],
            double[] d => d[0],
            _ => v.ToInt64Array()[0],
        } : 0;
        if (mode != "constant")
            for (int d = 0; d < x.Rank; d++)
                ctx.Require(x.Shape[d] > 0 || output[d] == 0, $"cannot {mode}-pad an empty axis {d}.");
        var y = Tensor.Zeros(x.DataType, output);
        var fill = Tensor.Zeros(x.DataType, [1]);
        switch (fill.DataType)
        {
            case DataType.Float: fill.AsSpan<float>()[0] = (float)value; break;
            case DataType.Double: fill.AsSpan<double>()[0] = value; break;
            default: CastOperator.FromInt64([(long)value], fill); break;
        }
        int size = DataTypes.SizeOf(x.DataType), rank = x.Rank;
        var strides = ShapeMath.Strides(x.Shape);
        var index = new int[rank];
        for (int o = 0; o < y.Length; o++)
        {
            int offset = 0;
            bool outside = false;
            for (int d = 0; d < rank; d++)
            {
                int i = index[d] - begin[d], n = x.Shape[d];
                if (i < 0 || i >= n)
                {
                    if (mode == "constant") { outside = true; break; }
                    i = mode == "edge" ? Math.Clamp(i, 0, n - 1) : Reflect(i, n);
                }
                offset += i * strides[d];
            }
            if (outside) Buffer.BlockCopy(fill.Data, 0, y.Data, o * size, size);
            else Buffer.BlockCopy(x.Data, offset * size, y.Data, o * size, size);
            for (int d = rank - 1; d >= 0 && ++index[d] >= output[d]; d--) index[d] = 0;
        }
        return [y];
    }

    /// <summary>Mirror an out-of-range index without repeating the edge (numpy 'reflect'), folding as often as needed.</summary>
    private static int Reflect(int i, int n)
    {
        if (n == 1) return 0;
        int period = 2 * (n - 1);
        i = ((i % period) + period) % period;
        return i < n ? i : period - i;
    }
}
