using System.CommandLine;
using System.Globalization;
using QuantGen.Core;
using QuantGen.Core.IO;
using QuantGen.Core.Passes;

namespace QuantGen.Cli;

/// <summary>Options several commands share, and their parsing into core types.</summary>
internal static class CommonOptions
{
    public static Argument<string> Model() => new("model") { Description = "The .onnx model file." };

    public static Option<int> Batch() => new("--batch") { Description = "Size of the symbolic batch dimension.", DefaultValueFactory = _ => 1 };

    public static Option<string[]> Dims() => new("--dim") { Description = "Size of a named symbolic dimension, NAME=SIZE (repeatable).", AllowMultipleArgumentsPerToken = false };

    /// <summary>The resource-budget options (docs/security.md): each raises or lowers one cap of <see cref="ResourceBudget"/>.</summary>
    public sealed class BudgetOptions
    {
        public Option<long?> TensorElements { get; } = new("--max-tensor-elements") { Description = $"Largest element count of one tensor or scratch buffer (default {ResourceBudget.Default.MaxTensorElements})." };
        public Option<long?> ActivationBytes { get; } = new("--max-activation-bytes") { Description = $"Largest activation memory live at once in the float executor (default {ResourceBudget.Default.MaxActivationBytes})." };
        public Option<long?> Parameters { get; } = new("--max-parameters") { Description = $"Largest parameter count (default {ResourceBudget.Default.MaxParameters})." };
        public Option<int?> Nodes { get; } = new("--max-nodes") { Description = $"Largest node count (default {ResourceBudget.Default.MaxNodes})." };

        public void AddTo(Command command)
        {
            command.Options.Add(TensorElements);
            command.Options.Add(ActivationBytes);
            command.Options.Add(Parameters);
            command.Options.Add(Nodes);
        }

        public ResourceBudget Read(ParseResult r)
        {
            var d = ResourceBudget.Default;
            return new ResourceBudget
            {
                MaxTensorElements = r.GetValue(TensorElements) ?? d.MaxTensorElements,
                MaxActivationBytes = r.GetValue(ActivationBytes) ?? d.MaxActivationBytes,
                MaxParameters = r.GetValue(Parameters) ?? d.MaxParameters,
                MaxNodes = r.GetValue(Nodes) ?? d.MaxNodes,
            }.Validated();
        }
    }

    public static Option<string[]> InputShapes() => new("--input-shape")
    {
        Description = "Whole shape of an input: 1,3,48,192 (the only input) or NAME=1,3,48,192 (repeatable); the csproj's InputShape/InputShapes.",
        AllowMultipleArgumentsPerToken = false,
    };

    public static ShapeOptions Shapes(int batch, string[]? dims, string[]? inputShapes = null) =>
        new() { BatchSize = CheckBatch(batch), Dimensions = Dimensions(dims), InputShapes = ShapeOptions.ParseInputShapes(inputShapes ?? [], "InputShape (--input-shape)") };

    private static int CheckBatch(int batch) =>
        batch < 1 ? throw new ModelException(ErrorCodes.InvalidOption, $"--batch {batch} must be positive.") : batch;

    public static Dictionary<string, int> Dimensions(string[]? dims)
    {
        var sizes = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (name, value) in Pairs(dims, "--dim"))
        {
            if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int size) || size < 1)
                throw new ModelException(ErrorCodes.InvalidOption, $"--dim {name}={value}: the size must be a positive integer.");
            sizes[name] = size;
        }
        return sizes;
    }

    /// <summary>NAME=VALUE pairs, one per value (not split on ';': values are often file paths); a value without a name gets the name "".</summary>
    public static IEnumerable<(string Name, string Value)> Pairs(string[]? values, string option) =>
        (values ?? []).Select(v => SettingList.Entry(v, option)).Select(e => (e.Name, e.Value));
}
