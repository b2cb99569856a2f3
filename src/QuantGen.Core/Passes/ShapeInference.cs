using QuantGen.Core.IO;
using QuantGen.Core.Ir;
using QuantGen.Core.Operators;

namespace QuantGen.Core.Passes;

/// <summary>How symbolic dimensions of the graph inputs become numbers.</summary>
public sealed record ShapeOptions
{
    /// <summary>The size the first (batch) dimension of every input takes when it is symbolic or unknown.</summary>
    public int BatchSize { get; init; } = 1;

    /// <summary>Sizes for named symbolic dimensions ("samples" = 16000), taking precedence over the batch rule.</summary>
    public IReadOnlyDictionary<string, int> Dimensions { get; init; } = new Dictionary<string, int>();

    /// <summary>Caps on tensor sizes, activation memory, parameters and nodes (QG0041), checked before anything is sized.</summary>
    public ResourceBudget Budget { get; init; } = ResourceBudget.Default;

    /// <summary>
    /// Whole shapes for inputs (InputShape="1,3,48,192", InputShapes="x=1,3,48,192;state=2,1,64", --input-shape), by input
    /// name; "" names the model's only input. They take precedence over the rules above and must agree with the fixed
    /// dims the model declares.
    /// </summary>
    public IReadOnlyDictionary<string, int[]> InputShapes { get; init; } = new Dictionary<string, int[]>();

    /// <summary>
    /// Parses shape settings, "1,3,48,192" (the only input) or "x=1,3,48,192;state=2,1,64"; <paramref name="setting"/>
    /// names the metadata or option in errors.
    /// </summary>
    public static Dictionary<string, int[]> ParseInputShapes(IEnumerable<string> entries, string setting)
    {
        var shapes = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (var (name, value, raw) in entries.SelectMany(e => SettingList.Parse(e, setting)))
        {
            var dims = value.Split(',', StringSplitOptions.TrimEntries);
            var shape = new int[dims.Length];
            for (int i = 0; i < dims.Length; i++)
                if (!int.TryParse(dims[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out shape[i]) || shape[i] < 1)
                    throw new ModelException(ErrorCodes.InvalidOption, $"{setting}=\"{raw}\": dimension {i} ('{dims[i]}') must be a positive integer.");
            if (!shapes.TryAdd(name, shape))
                throw new ModelException(ErrorCodes.InvalidOption, $"{setting} gives the shape of {SettingList.Describe(name)} twice.");
        }
        return shapes;
    }

    /// <summary>
    /// The options that give the model's symbolic input dims the sizes the given input tensors have: named symbols
    /// take the tensor's size, and a non-fixed first dimension sets the batch size. Mismatches are not checked here.
    /// </summary>
    public static ShapeOptions FromInputs(Model model, IReadOnlyDictionary<string, Tensor> inputs)
    {
        var dims = new Dictionary<string, int>(StringComparer.Ordinal);
        int batch = 1;
        foreach (var declared in model.Graph.Inputs)
        {
            if (!inputs.TryGetValue(declared.Name, out var tensor) || declared.Dims is null) continue;
            for (int d = 0; d < declared.Dims.Count && d < tensor.Rank; d++)
            {
                if (declared.Dims[d].Symbol is { } symbol) dims[symbol] = tensor.Shape[d];
                if (d == 0 && !declared.Dims[d].IsFixed) batch = tensor.Shape[0];
            }
        }
        return new ShapeOptions { BatchSize = batch, Dimensions = dims };
    }
}

/// <summary>
/// Static shape inference interleaved with constant folding: walks the nodes in topological order, gives every
/// value a concrete type and shape, and replaces every node whose inputs are all constant (including Shape of a
/// statically shaped value) by an initializer. That folds the Shape → Gather → Concat → Reshape chains exporters
/// emit, so later stages see plain constant shapes.
/// </summary>
public static class ShapeInference
{
    /// <summary>Folded outputs larger than this many elements stay computed nodes (folding would bloat the model); shape-sized tensors are far below it.</summary>
    public const int MaxFoldedElements = 1 << 20;

    public static void Run(Model model, ShapeOptions options, OperatorRegistry? registry = null)
    {
        registry ??= OperatorRegistry.Default;
        var graph = model.Graph;
        graph.ValueInfos.Clear();
        foreach (var (name, tensor) in graph.Initializers) graph.ValueInfos[name] = tensor.Info;
        CheckInputShapesNameInputs(model, options);
        foreach (var input in graph.Inputs) graph.ValueInfos[input.Name] = new TensorInfo(input.DataType, ResolveInput(input, options));

        var kept = new List<Node>(graph.Nodes.Count);
        foreach (var node in graph.Nodes)
        {
            if (!OperatorRegistry.IsDefaultDomain(node.Domain) || !registry.TryGet(node.OpType, out var op))
                throw new ModelException(ErrorCodes.UnsupportedOperator,
                    $"Operator '{(node.Domain.Length > 0 ? node.Domain + "." : "")}{node.OpType}' is not supported.", model.Path, node.Name);
            var ctx = new OpContext(node, model.Opset) { Budget = options.Budget };
            var infos = new TensorInfo?[node.Inputs.Count];
            var constants = new Tensor?[node.Inputs.Count];
            bool allConstant = true;
            for (int i = 0; i < node.Inputs.Count; i++)
            {
                var name = node.Inputs[i];
                if (name.Length == 0) continue;
                if (!graph.ValueInfos.TryGetValue(name, out var info))
                    throw new ModelException(ErrorCodes.MissingValue, $"{node.OpType} reads '{name}', which nothing produces.", model.Path, node.Name);
                infos[i] = info;
                if (graph.Initializers.TryGetValue(name, out var constant)) constants[i] = constant;
                else allConstant = false;
            }

            TensorInfo[] outputs;
            Tensor[]? folded = null;
            try
            {
                outputs = op.InferOutputs(ctx, infos, constants);
                if (node.OpType == "Shape" && infos[0] is { } shaped)
                {
                    // A static shape is a constant even when the tensor is not.
                    var dims = shaped.Shape.Select(d => (long)d).ToArray();
                    folded = [Tensor.Int64Vector(dims[SliceRange(ctx, dims.Length)])];
                }
                else if (allConstant && outputs.All(o => o.ElementCount <= MaxFoldedElements))
                {
                    folded = op.Execute(ctx, constants);
                }
            }
            catch (ModelException e)
            {
                throw e.WithContext(model.Path, node.Name);
            }
            catch (OverflowException e)
            {
                // A checked conversion of an attribute or constant input: the model's value, not a QuantGen bug.
                throw new ModelException(ErrorCodes.ValueOutOfRange, $"{node.OpType}: a value of the node is outside the range QuantGen represents ({e.Message}).", model.Path, node.Name, e);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new ModelException(ErrorCodes.InternalError, $"{node.OpType} failed during shape inference: {e.Message}. Please report this with the model.", model.Path, node.Name, e);
            }

            for (int o = 0; o < node.Outputs.Count && o < outputs.Length; o++)
            {
                var name = node.Outputs[o];
                if (name.Length == 0) continue;
                var info = folded is not null ? folded[o].Info : outputs[o];
                try
                {
                    options.Budget.RequireTensor(info.ElementCount, $"{node.OpType} output '{name}' {info}");
                }
                catch (ModelException e)
                {
                    throw e.WithContext(model.Path, node.Name);
                }
                graph.ValueInfos[name] = info;
                if (folded is not null) graph.Initializers[name] = folded[o];
            }
            if (folded is null) kept.Add(node);
        }
        graph.Nodes.Clear();
        graph.Nodes.AddRange(kept);

        foreach (var output in graph.Outputs)
        {
            if (!graph.ValueInfos.TryGetValue(output.Name, out var info))
                throw new ModelException(ErrorCodes.MissingValue, $"Graph output '{output.Name}' is not produced by any node.", model.Path);
            CheckDeclared(output, info, model.Path);
        }
    }

    private static Range SliceRange(OpContext ctx, int rank)
    {
        long start = ctx.Node.GetInt("start", 0), end = ctx.Node.GetInt("end", rank);
        if (start < 0) start += rank;
        if (end < 0) end += rank;
        int s = (int)Math.Clamp(start, 0, rank), e = (int)Math.Clamp(end, 0, rank);
        return s..Math.Max(s, e);
    }

    private static void CheckInputShapesNameInputs(Model model, ShapeOptions options)
    {
        var inputs = model.Graph.Inputs.Select(i => i.Name).ToList();
        foreach (var name in options.InputShapes.Keys)
        {
            if (name.Length == 0 && inputs.Count != 1)
                throw new ModelException(ErrorCodes.InvalidOption,
                    $"InputShape gives one shape but the model has {inputs.Count} inputs ({string.Join(", ", inputs)}): name each, InputShapes=\"{string.Join(";", inputs.Select(i => i + "=..."))}\".", model.Path);
            if (name.Length > 0 && !inputs.Contains(name))
                throw new ModelException(ErrorCodes.InvalidOption, $"InputShapes names input '{name}', which the model does not have (its inputs: {string.Join(", ", inputs)}).", model.Path);
        }
    }

    private static int[] ResolveInput(ValueDeclaration input, ShapeOptions options)
    {
        if (options.InputShapes.TryGetValue(input.Name, out var given) || (options.InputShapes.TryGetValue("", out given)))
            return Given(input, given);
        if (input.Dims is null)
            throw new ModelException(ErrorCodes.BadShape, $"Input '{input.Name}' declares no shape; QuantGen needs its rank and sizes (set InputShape on the QuantModel item, CLI --input-shape).");
        var shape = new int[input.Dims.Count];
        for (int i = 0; i < shape.Length; i++)
        {
            var dim = input.Dims[i];
            if (dim.IsFixed)
            {
                if (dim.Value > ShapeMath.MaxElements)
                    throw new ModelException(ErrorCodes.TensorTooLarge, $"Input '{input.Name}' dimension {i} is {dim.Value}.");
                shape[i] = (int)dim.Value;
            }
            else if (dim.Symbol is { } symbol && options.Dimensions.TryGetValue(symbol, out int size)) shape[i] = size;
            else if (i == 0) shape[i] = options.BatchSize;
            else
                throw new ModelException(ErrorCodes.BadShape,
                    $"Input '{input.Name}' dimension {i} is symbolic ('{dim.Symbol ?? "?"}'); give the input's whole shape with InputShape=\"{Example(input)}\" on the QuantModel item "
                    + $"(several inputs: InputShapes=\"{input.Name}={Example(input)};...\"; CLI: --input-shape or --dim {dim.Symbol ?? "NAME"}=SIZE).");
        }
        ShapeMath.ElementCount(shape, $"input '{input.Name}'");
        return shape;
    }

    /// <summary>A shape the user set: same rank as declared, fixed dims unchanged.</summary>
    private static int[] Given(ValueDeclaration input, int[] given)
    {
        if (input.Dims is { } dims)
        {
            if (dims.Count != given.Length)
                throw new ModelException(ErrorCodes.InvalidOption,
                    $"InputShape for input '{input.Name}' has rank {given.Length} ({string.Join(",", given)}), but the model declares rank {dims.Count} ({string.Join(",", dims)}).");
            for (int i = 0; i < given.Length; i++)
                if (dims[i].IsFixed && dims[i].Value != given[i])
                    throw new ModelException(ErrorCodes.InvalidOption,
                        $"InputShape for input '{input.Name}' sets dimension {i} to {given[i]}, but the model fixes it at {dims[i].Value} ({string.Join(",", dims)}).");
        }
        ShapeMath.ElementCount(given, $"input '{input.Name}'");
        return (int[])given.Clone();
    }

    /// <summary>The declared shape with symbols shown as their names, for an error's example setting.</summary>
    private static string Example(ValueDeclaration input) =>
        string.Join(",", input.Dims!.Select((d, i) => d.IsFixed ? d.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : i == 0 ? "1" : d.Symbol ?? "N"));

    private static void CheckDeclared(ValueDeclaration declared, TensorInfo inferred, string? modelPath)
    {
        if (declared.Dims is null) return;
        if (declared.Dims.Count != inferred.Rank)
            throw new ModelException(ErrorCodes.BadShape, $"Output '{declared.Name}' is declared with rank {declared.Dims.Count} but computes {inferred}.", modelPath);
        for (int i = 0; i < inferred.Rank; i++)
            if (declared.Dims[i].IsFixed && declared.Dims[i].Value != inferred.Shape[i])
                throw new ModelException(ErrorCodes.BadShape, $"Output '{declared.Name}' is declared as [{string.Join(",", declared.Dims)}] but computes {inferred}.", modelPath);
    }
}
