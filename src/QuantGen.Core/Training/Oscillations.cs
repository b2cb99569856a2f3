using System.Numerics;

namespace QuantGen.Core.Training;

/// <summary>
/// Oscillation dampening (Nagel et al., "Overcoming Oscillations in Quantization-Aware Training", ICML 2022, eq. 7):
/// R = Σⱼ (ŵⱼ − clip(wⱼ, −L·s, L·s))² / s², with ŵ = s·clamp(⌊w/s⌉, −L, L) under a stop-gradient, so it pulls each
/// latent weight toward the grid point it currently rounds to. QuantGen measures it in grid steps (divided by the
/// channel's s²) so one λ fits every layer; the gradient is ∂R/∂wⱼ = 2·(clip(wⱼ) − ŵⱼ)/s² inside the clipping range
/// and 0 outside it. The weight λ is annealed from 0 to its final value with a cosine (<see cref="Annealed"/>).
/// </summary>
internal static class OscillationDampening
{
    /// <summary>Adds λ·∂R/∂w to <paramref name="gradient"/> and returns λ·R (weights per output channel of <paramref name="fanIn"/>, levels ±<paramref name="level"/>).</summary>
    public static double Add<T>(ReadOnlySpan<T> weights, ReadOnlySpan<T> scales, int fanIn, int level, T lambda, Span<T> gradient)
        where T : IFloatingPointIeee754<T>
    {
        var bound = T.CreateChecked(level);
        var two = T.CreateChecked(2);
        double sum = 0;
        for (int j = 0; j < weights.Length; j++)
        {
            var s = scales[j / fanIn];
            var w = weights[j];
            var grid = T.Round(T.Clamp(w / s, -bound, bound)) * s; // stop-gradient: a constant to the derivative
            var clipped = T.Clamp(w, -bound * s, bound * s);
            var difference = (clipped - grid) / s;
            sum += double.CreateChecked(difference * difference);
            if (w > -bound * s && w < bound * s) gradient[j] += lambda * two * difference / s;
        }
        return double.CreateChecked(lambda) * sum;
    }

    /// <summary>The dampening weight at <paramref name="step"/> of <paramref name="steps"/>: λ·(1 − cos(π·step/steps))/2, from 0 to λ.</summary>
    public static float Annealed(float lambda, int step, int steps) => lambda * (1 - MathF.Cos(MathF.PI * step / steps)) / 2;
}

/// <summary>
/// Oscillation tracking and iterative freezing (Nagel et al. 2022, section 4.2) for one weighted layer. A weight
/// oscillates at a step when its integer value changes in the direction opposite to its previous change; its
/// frequency is the exponential moving average f ← m·o + (1 − m)·f (m = <see cref="Momentum"/>), and the EMA of its
/// integer value is kept the same way. With a freeze threshold, a weight whose frequency exceeds it is frozen at its
/// rounded integer EMA: its latent value stays s·q (s may still learn) and its gradient is dropped.
/// </summary>
internal sealed class OscillationTracker
{
    /// <summary>The EMA momentum of the paper.</summary>
    public const float Momentum = 0.01f;

    /// <summary>
    /// The report counts a weight as oscillating when its frequency is at least this at the end: with m = 0.01, one
    /// oscillation within the last 69 steps, or more of them earlier.
    /// </summary>
    public const float ReportThreshold = 0.005f;

    private readonly int _fanIn, _level;
    private readonly int[] _previous;
    private readonly sbyte[] _direction;
    private readonly float[] _frequency;
    private readonly float[] _average;
    private readonly int[] _frozenAt;

    public OscillationTracker(string layer, ReadOnlySpan<float> weights, ReadOnlySpan<float> scales, int fanIn, int level)
    {
        Layer = layer;
        _fanIn = fanIn;
        _level = level;
        _previous = new int[weights.Length];
        _direction = new sbyte[weights.Length];
        _frequency = new float[weights.Length];
        _average = new float[weights.Length];
        _frozenAt = new int[weights.Length];
        for (int j = 0; j < weights.Length; j++)
        {
            _previous[j] = Integer(weights[j], scales[j / fanIn]);
            _average[j] = _previous[j];
            _frozenAt[j] = int.MinValue;
        }
    }

    public string Layer { get; }

    public int Count => _previous.Length;

    /// <summary>The oscillation frequency (EMA) of each weight.</summary>
    public ReadOnlySpan<float> Frequency => _frequency;

    public bool IsFrozen(int j) => _frozenAt[j] != int.MinValue;

    /// <summary>The integer value a frozen weight is held at.</summary>
    public int FrozenValue(int j) => _frozenAt[j];

    public int Frozen => _frozenAt.Count(f => f != int.MinValue);

    public int Oscillating => _frequency.Count(f => f >= ReportThreshold);

    /// <summary>After an optimizer step: counts each weight's integer change, updates the EMAs, freezes (threshold &gt; 0) and holds the frozen weights on their grid points.</summary>
    public void Update(Span<float> weights, ReadOnlySpan<float> scales, float freezeThreshold)
    {
        for (int j = 0; j < weights.Length; j++)
        {
            var s = scales[j / _fanIn];
            if (IsFrozen(j))
            {
                _frequency[j] *= 1 - Momentum;
                weights[j] = _frozenAt[j] * s;
                continue;
            }
            int q = Integer(weights[j], s);
            int change = q - _previous[j];
            float oscillated = 0;
            if (change != 0)
            {
                sbyte direction = (sbyte)Math.Sign(change);
                if (_direction[j] != 0 && direction != _direction[j]) oscillated = 1;
                _direction[j] = direction;
                _previous[j] = q;
            }
            _frequency[j] = Momentum * oscillated + (1 - Momentum) * _frequency[j];
            _average[j] = Momentum * q + (1 - Momentum) * _average[j];
            if (freezeThreshold > 0 && _frequency[j] > freezeThreshold)
            {
                _frozenAt[j] = (int)MathF.Round(Math.Clamp(_average[j], -_level, _level));
                weights[j] = _frozenAt[j] * s;
            }
        }
    }

    /// <summary>Drops the gradient of the frozen weights (so the optimizer's moments do not move them).</summary>
    public void Mask(Span<float> gradient)
    {
        for (int j = 0; j < gradient.Length; j++)
            if (IsFrozen(j)) gradient[j] = 0;
    }

    private int Integer(float w, float s) => (int)MathF.Round(Math.Clamp(w / s, -_level, _level));
}

/// <summary>A layer's oscillation statistics at the end of fine-tuning, for the report.</summary>
internal sealed record OscillationStatistics(string Layer, int Weights, int Oscillating, int Frozen, double MeanFrequency);
