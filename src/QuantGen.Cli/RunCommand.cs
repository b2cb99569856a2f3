using System.CommandLine;
using QuantGen.Core;
using QuantGen.Core.Execution;
using QuantGen.Core.IO;
using QuantGen.Core.Ir;
using QuantGen.Core.Passes;
using QuantGen.Onnx;

namespace QuantGen.Cli;

/// <summary>quantgen run MODEL --input NAME=FILE.npy … --output-dir DIR: the float reference executor, outputs as .npy.</summary>
internal static class RunCommand
{
    public static Command Create(TextWriter output)
    {
        var model = CommonOptions.Model();
        var inputs = new Option<string[]>("--input") { Description = "A model input as NAME=FILE.npy (repeatable; NAME may be omitted for single-input models).", Required = true };
        var outputDir = new Option<string>("--output-dir") { Description = "Folder for the outputs, one NAME.npy each.", Required = true };
        var command = new Command("run", "Run a model with the float reference executor.") { model, inputs, outputDir };
        var budget = new CommonOptions.BudgetOptions();
        budget.AddTo(command);
        command.SetAction(result => Run(result.GetRequiredValue(model), result.GetValue(inputs), result.GetRequiredValue(outputDir), budget.Read(result), output));
        return command;
    }

    private static int Run(string path, string[]? inputArgs, string outputDir, ResourceBudget budget, TextWriter output)
    {
        var model = OnnxModelLoader.Load(path, budget);
        var values = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, file) in CommonOptions.Pairs(inputArgs, "--input"))
        {
            var inputName = name.Length > 0 ? name
                : model.Graph.Inputs.Count == 1 ? model.Graph.Inputs[0].Name
                : throw new ModelException(ErrorCodes.InvalidOption, $"The model has {model.Graph.Inputs.Count} inputs: name each one (--input NAME=FILE.npy).", path);
            if (model.Graph.Inputs.All(i => i.Name != inputName))
                throw new ModelException(ErrorCodes.BadInput, $"The model has no input '{inputName}' (it has: {string.Join(", ", model.Graph.Inputs.Select(i => i.Name))}).", path);
            values[inputName] = Npy.Read(file, budget);
        }

        // Shapes come from the data: symbolic dims take the sizes the files have, fixed ones must match.
        foreach (var declared in model.Graph.Inputs)
        {
            if (!values.TryGetValue(declared.Name, out var tensor) || declared.Dims is null) continue;
            if (declared.Dims.Count != tensor.Rank)
                throw new ModelException(ErrorCodes.BadInput, $"Input '{declared.Name}' needs rank {declared.Dims.Count}, the file holds {tensor}.", path);
            for (int d = 0; d < tensor.Rank; d++)
                if (declared.Dims[d].IsFixed && declared.Dims[d].Value != tensor.Shape[d])
                    throw new ModelException(ErrorCodes.BadInput, $"Input '{declared.Name}' is [{string.Join(",", declared.Dims)}], the file holds {tensor}.", path);
        }
        var prepared = ModelPreparation.Prepare(model, ShapeOptions.FromInputs(model, values) with { Budget = budget });
        var results = new ReferenceExecutor(prepared).Run(values);

        Directory.CreateDirectory(outputDir);
        // Distinct outputs may sanitise to one name ('a/b' and 'a_b'): each gets its own file, never an overwrite.
        var taken = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, tensor) in results)
        {
            var stem = SafeFileName(name);
            for (int n = 2; !taken.Add(stem); n++) stem = SafeFileName(name) + "-" + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var file = Path.Combine(outputDir, stem + ".npy");
            Npy.Write(file, tensor);
            output.WriteLine($"{name}: {tensor} -> {file}");
        }
        return 0;
    }

    /// <summary>ONNX output names may hold any character: keep letters, digits, '-', '_' and '.', replace the rest.</summary>
    internal static string SafeFileName(string name)
    {
        var chars = name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray();
        var safe = new string(chars).Trim('.');
        return safe.Length == 0 ? "output" : safe;
    }
}
