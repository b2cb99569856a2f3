namespace QuantGen.Core.Quantization;

internal sealed partial class FloatLayer
{
    /// <summary>
    /// Conv/FullyConnected: this layer's weight width, 2 to 8 (WeightBits, a first/last layer pin, or the mixed-precision
    /// choice; MixedPrecision/WeightWidths.cs). Range setting, rounding, AdaRound and the accumulator bound use it.
    /// </summary>
    public int WeightBits { get; set; } = 8;
}
