using QuantGen.Core.Artifact;

namespace QuantGen.Core.Training;

/// <summary>
/// The optional intermediate-feature term of the distillation loss (FineTuneFeatureWeight): the mean squared error
/// between the student's and the teacher's outputs of every weighted layer before the model's output, each divided
/// by the teacher's mean square of that value, so every layer weighs alike whatever its scale:
/// λ/F · Σ_f mean((s_f − t_f)²) / E[t_f²]. The teacher is the float model after equalization and bias absorption
/// (FineTuning.Teacher), so its channels are the student's channels at the same scale. Teacher values are computed
/// per batch (a stored copy for 8k samples would take gigabytes on the MobileNet-style model).
/// </summary>
internal sealed class FeatureDistillation
{
    private readonly Teacher _teacher;
    private readonly double[] _meanSquares;
    private readonly float _weight;

    private FeatureDistillation(Teacher teacher, string[] values, double[] meanSquares, float weight)
    {
        _teacher = teacher;
        Values = values;
        _meanSquares = meanSquares;
        _weight = weight;
    }

    /// <summary>The values the term reads, in the order of <see cref="Targets"/>.</summary>
    public IReadOnlyList<string> Values { get; }

    /// <summary>
    /// The term for <paramref name="student"/>'s weighted layers, or null when the weight is 0 or there is no layer
    /// before the output. Each value's E[t²] is measured on up to 256 of <paramref name="samples"/>; a value the
    /// teacher leaves at zero on all of them (a dead layer) is left out, having no scale to divide by.
    /// </summary>
    public static FeatureDistillation? Create(Teacher teacher, TrainingGraph<float> student, IReadOnlyList<IReadOnlyDictionary<string, float[]>> samples, float weight, int threads)
    {
        if (weight <= 0) return null;
        var candidates = student.Layers.Where(l => l.Kind is LayerKinds.Conv or LayerKinds.FullyConnected && l.Output != student.Output)
            .Select(l => l.Output).ToArray();
        if (candidates.Length == 0) return null;
        var probe = samples.Take(256).ToArray();
        var values = teacher.Model.EvaluateValues(probe, candidates, threads);
        var kept = new List<(string Name, double MeanSquare)>();
        for (int f = 0; f < candidates.Length; f++)
        {
            double sum = 0;
            long count = 0;
            foreach (var sample in values)
            {
                foreach (var v in sample[f]) sum += (double)v * v;
                count += sample[f].Length;
            }
            if (sum > 0) kept.Add((candidates[f], sum / count));
        }
        return kept.Count == 0 ? null : new FeatureDistillation(teacher, kept.Select(k => k.Name).ToArray(), kept.Select(k => k.MeanSquare).ToArray(), weight);
    }

    /// <summary>The teacher's values for each sample of a batch.</summary>
    public float[][][] Targets(IReadOnlyList<IReadOnlyDictionary<string, float[]>> batch, int threads) => _teacher.Model.EvaluateValues(batch, Values, threads);

    /// <summary>Value <paramref name="feature"/>'s term and its gradient: λ/F · MSE(s, t) / E[t²].</summary>
    public (double Loss, float[] Gradient) Loss(int feature, float[] student, float[] teacher)
    {
        var (mse, gradient) = DistillationLoss.MeanSquaredError(student, teacher);
        double factor = _weight / (Values.Count * _meanSquares[feature]);
        float f = (float)factor;
        for (int i = 0; i < gradient.Length; i++) gradient[i] *= f;
        return (mse * factor, gradient);
    }
}
