using QuantGen.Core.IO;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;

namespace QuantGen.Core.Training;

/// <summary>
/// TrainingData (--training-data): unlabeled inputs for fine-tuning in the calibration format, FILE.npy for a model
/// with one input or NAME=FILE.npy per input. Every problem is QG0096 naming the file.
/// </summary>
internal static class TrainingDataFiles
{
    public static CalibrationSet Load(IReadOnlyList<string> entries, Graph graph, ResourceBudget budget)
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var sources = new Dictionary<string, string>(StringComparer.Ordinal);
        var named = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in entries.Select(e => SettingList.Entry(e, "TrainingData")))
        {
            var file = entry.Value;
            var target = entry.Name.Length > 0 ? entry.Name
                : graph.Inputs.Count == 1 ? graph.Inputs[0].Name
                : throw new ModelException(ErrorCodes.BadTrainingData, $"TrainingData: the model has {graph.Inputs.Count} inputs: name the file of each (NAME=FILE.npy).", file);
            if (graph.Inputs.All(i => i.Name != target))
                throw new ModelException(ErrorCodes.BadTrainingData, $"TrainingData names input '{target}', which the model does not have.", file);
            if (!named.Add(target))
                throw new ModelException(ErrorCodes.BadTrainingData, $"TrainingData gives input '{target}' twice.", file);
            if (!File.Exists(file))
                throw new ModelException(ErrorCodes.BadTrainingData, $"Training data file '{file}' does not exist.", file);
            try
            {
                tensors[target] = Npy.Read(file, budget);
            }
            catch (ModelException e) when (e.Code != ErrorCodes.BudgetExceeded)
            {
                throw new ModelException(ErrorCodes.BadTrainingData, $"Training data file '{file}': {e.Message}", file);
            }
            catch (IOException e)
            {
                throw new ModelException(ErrorCodes.BadTrainingData, $"Training data file '{file}' cannot be read: {e.Message}", file);
            }
            sources[target] = file;
        }
        return new CalibrationSet(tensors, sources);
    }
}
