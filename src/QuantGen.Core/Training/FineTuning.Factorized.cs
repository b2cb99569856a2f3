using QuantGen.Core.Quantization;

namespace QuantGen.Core.Training;

/// <summary>
/// Fine-tuning of factorized layers (Compression="factorized"): the student trains them as their factors
/// (<see cref="TrainingGraph{T}"/>, TrainingGraph.Factorized.cs), starting at the fitted factors' grid points, and the
/// write-back replaces the layer's factors (grid indices, row scales, the intermediate's range) and bias, from which
/// the artifact is built as for any factorized layer.
/// </summary>
internal static partial class FineTuning
{
    /// <summary>Every factorized layer of the student gets its factor grids and, when the calibration passes measured one, its intermediate grid.</summary>
    private static FloatLayer[] QuantizeFactors(TrainingGraph<float> student)
    {
        var factorized = student.Layers.Where(l => student.FactorSlotsOf(l) is not null).ToArray();
        foreach (var layer in factorized)
        {
            double? range = layer.Factorization!.IntermediateMax;
            student.QuantizeFactors(layer, range > 0 ? (float)(range.Value / ArtifactBuilder.IntermediateLevel) : null);
        }
        return factorized;
    }

    /// <summary>Step units as for a plain layer: a row's grid step for its latent entries, the row scale times the scale rate for scales, the output grid's step for the bias.</summary>
    private static void FactorUnits(TrainingGraph<float> student, FloatLayer[] factorized, List<float[]> units, QuantizationOptions options)
    {
        foreach (var layer in factorized)
        {
            var slots = student.FactorSlotsOf(layer)!;
            var f = slots.Factors;
            for (int j = 0; j < units[slots.B].Length; j++) units[slots.B][j] = f.B.Scales[j / f.B.NonZerosPerRow] * options.FineTuneWeightLearningRate;
            for (int j = 0; j < units[slots.A].Length; j++) units[slots.A][j] = f.A.Scales[j / f.A.NonZerosPerRow] * options.FineTuneWeightLearningRate;
            for (int c = 0; c < f.B.Rows; c++) units[slots.BScales][c] = f.B.Scales[c] * options.FineTuneScaleLearningRate;
            for (int o = 0; o < f.A.Rows; o++) units[slots.AScales][o] = f.A.Scales[o] * options.FineTuneScaleLearningRate;
            if (slots.ZGrid >= 0) units[slots.ZGrid][0] = student.Parameters[slots.ZGrid][0] * options.FineTuneScaleLearningRate;
            float outputStep = student.GridSlotOf(layer.Output) is int g and >= 0 ? student.Parameters[g][0] : f.A.Scales.Average();
            Array.Fill(units[slots.Bias], outputStep);
        }
    }

    private static void ClampFactorScales(TrainingGraph<float> student, FloatLayer[] factorized)
    {
        foreach (var layer in factorized)
        {
            var slots = student.FactorSlotsOf(layer)!;
            ClampPositive(student.Parameters[slots.BScales]);
            ClampPositive(student.Parameters[slots.AScales]);
            if (slots.ZGrid >= 0) ClampPositive(student.Parameters[slots.ZGrid]);
        }
    }

    private static void WriteBackFactors(TrainingGraph<float> student, FloatLayer[] factorized)
    {
        foreach (var layer in factorized)
        {
            var slots = student.FactorSlotsOf(layer)!;
            layer.Factorization = student.TrainedFactors(layer);
            layer.Bias = student.Parameters[slots.Bias].ToArray();
        }
    }
}
