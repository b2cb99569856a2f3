using System.Globalization;

namespace QuantGen.Core.Quantization;

/// <summary>The parameters of the elementwise kinds (Lookup, Affine, Mul, Concat, and a subtracting Add).</summary>
internal sealed partial class FloatLayer
{
    /// <summary>Lookup: the real function the table evaluates on the input grid (docs/artifact.md, "Lookup").</summary>
    public LookupFunction? Function { get; set; }

    /// <summary>
    /// Affine: y = x · AffineScale[c] + AffineOffset[c] with c = (i / BroadcastInner) % BroadcastChannels, one value
    /// per channel of the axis the constants broadcast along (a single value: channels 1).
    /// </summary>
    public float[]? AffineScale { get; set; }

    public float[]? AffineOffset { get; set; }

    /// <summary>Affine: the length of the constants' axis (1 for a scalar constant).</summary>
    public int BroadcastChannels { get; set; } = 1;

    /// <summary>Affine: elements per step of the constants' axis; Mul: elements of the first input per element of the second.</summary>
    public int BroadcastInner { get; set; } = 1;

    /// <summary>Add of two tensors computing a − b (ONNX Sub).</summary>
    public bool Subtract { get; set; }
}

/// <summary>
/// A real function of one variable that a <c>Lookup</c> layer tabulates: for each of the 256 input grid indices q,
/// table[q] = Quantize(f(Dequantize(q))) on the output grid, so the layer is exact by construction (the table holds the
/// correctly rounded result of every possible input).
/// </summary>
internal sealed record LookupFunction(string Name, Func<double, double> Evaluate)
{
    /// <summary>
    /// f is constant on (−∞, ConstantBelow] (and on [ConstantAbove, ∞)): a producer's output read only by such tables
    /// needs no grid below (above) it, and a narrower grid loses nothing (TableInputRanges).
    /// </summary>
    public double ConstantBelow { get; init; } = double.NegativeInfinity;

    public double ConstantAbove { get; init; } = double.PositiveInfinity;

    /// <summary>
    /// The function's derivative (the one-sided value at a kink is the slope of the piece that holds the point, as in
    /// <see cref="Evaluate"/>'s comparisons); null when none is known (fine-tuning then refuses the layer, QG0095).
    /// </summary>
    public Func<double, double>? Derivative { get; init; }

    public static LookupFunction Sigmoid { get; } = new("Sigmoid", Logistic) { Derivative = v => Logistic(v) * (1 - Logistic(v)) };

    public static LookupFunction Tanh { get; } = new("Tanh", Math.Tanh) { Derivative = v => 1 - Math.Tanh(v) * Math.Tanh(v) };

    /// <summary>x · sigmoid(x) (SiLU), recognised from Mul(x, Sigmoid(x)).</summary>
    public static LookupFunction Swish { get; } = new("Swish", v => v * Logistic(v)) { Derivative = v => Logistic(v) * (1 + v * (1 - Logistic(v))) };

    /// <summary>x · clamp(x/6 + 1/2, 0, 1) = x · Clip(x + 3, 0, 6) / 6, ONNX HardSwish and the exporters' decomposition.</summary>
    public static LookupFunction HardSwish { get; } = new("HardSwish", v => v * Math.Clamp(v + 3, 0, 6) / 6)
    {
        ConstantBelow = -3,
        Derivative = v => v <= -3 ? 0 : v >= 3 ? 1 : (2 * v + 3) / 6,
    };

    /// <summary>Clip(x + 3, 0, 6) / 6, the decomposed hard-sigmoid (ONNX HardSigmoid with alpha 1/6, beta 1/2).</summary>
    public static LookupFunction DecomposedHardSigmoid { get; } = new("HardSigmoid", v => Math.Clamp(v + 3, 0, 6) / 6)
    {
        ConstantBelow = -3,
        ConstantAbove = 3,
        Derivative = v => v > -3 && v < 3 ? 1.0 / 6 : 0,
    };

    public static LookupFunction HardSigmoid(float alpha, float beta) =>
        new($"HardSigmoid alpha {Format(alpha)} beta {Format(beta)}", v => Math.Clamp(alpha * v + beta, 0, 1))
        {
            ConstantBelow = alpha > 0 ? -beta / (double)alpha : double.NegativeInfinity,
            ConstantAbove = alpha > 0 ? (1 - beta) / (double)alpha : double.PositiveInfinity,
            Derivative = v => Inside(alpha * v + beta, 0, 1) ? alpha : 0,
        };

    /// <summary>x · HardSigmoid(x), recognised from Mul(x, HardSigmoid(x)).</summary>
    public static LookupFunction GatedHardSigmoid(float alpha, float beta) =>
        new($"x · HardSigmoid alpha {Format(alpha)} beta {Format(beta)}", v => v * Math.Clamp(alpha * v + beta, 0, 1))
        {
            ConstantBelow = alpha > 0 && beta >= 0 ? -beta / (double)alpha : double.NegativeInfinity,
            Derivative = v => Math.Clamp(alpha * v + beta, 0, 1) + (Inside(alpha * v + beta, 0, 1) ? v * alpha : 0),
        };

    public static LookupFunction LeakyRelu(float alpha) => new($"LeakyRelu alpha {Format(alpha)}", v => v >= 0 ? v : v * alpha) { Derivative = v => v >= 0 ? 1 : alpha };

    /// <summary>A standalone Relu or Clip (one that no layer before it can absorb as its clamp).</summary>
    public static LookupFunction Clip(float min, float max) => new($"Clip {Format(min)} {Format(max)}", v => Math.Clamp(v, min, max))
    {
        ConstantBelow = min,
        ConstantAbove = max,
        Derivative = v => Inside(v, min, max) ? 1 : 0,
    };

    private static double Logistic(double v) => 1 / (1 + Math.Exp(-v));

    private static bool Inside(double v, double min, double max) => v > min && v < max;

    private static string Format(float v) => v.ToString("R", CultureInfo.InvariantCulture);
}
