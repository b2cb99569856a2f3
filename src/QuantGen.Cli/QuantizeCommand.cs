using System.CommandLine;
using System.Security.Cryptography;
using QuantGen.Core;
using QuantGen.Core.Artifact;
using QuantGen.Core.IO;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using QuantGen.Core.Quantization.Factorization;
using QuantGen.Onnx;
using QuantGen.Onnx.Export;

namespace QuantGen.Cli;

/// <summary>
/// quantgen quantize MODEL --output OUT.qgart: the build task's worker. Writes the artifact (and the report), prints
/// one "quantgen: " summary line; model problems go to stderr as MSBuild-style lines. With --format qdq the output is
/// the same quantization as a QDQ ONNX model (docs/interop.md); --qdq-output writes that beside the artifact.
/// </summary>
internal static class QuantizeCommand
{
    public static Command Create(TextWriter output)
    {
        var model = CommonOptions.Model();
        var outputFile = new Option<string>("--output", "-o") { Description = "The file to write: the artifact (.qgart), or with --format qdq the QDQ model (.onnx).", Required = true };
        var format = new Option<string>("--format") { DefaultValueFactory = _ => "artifact", Description = "What --output holds: artifact (QuantGen's, for the source generator) or qdq (a QDQ ONNX model, docs/interop.md)." };
        var qdqOutput = new Option<string?>("--qdq-output") { Description = "Also write the quantization as a QDQ ONNX model here (the build's ExportQdq)." };
        var qdqWeights = new Option<string?>("--qdq-weights") { Description = "QDQ weight storage: u8 (default: w + 128, zero point 128, exact in ONNX Runtime on every x86 CPU) or s8 (int8, exact only with VNNI)." };
        var report = new Option<string?>("--report") { Description = "Also write the Markdown quantization report here." };
        var source = new Option<string?>("--source") { Description = "The model path as the project names it (recorded in the artifact)." };
        var name = new Option<string?>("--name") { Description = "Model name recorded in the artifact (default: the file name)." };
        var command = new Command("quantize", "Quantize a model into a QuantGen artifact.")
        {
            model, outputFile, format, qdqOutput, qdqWeights, report,
        };
        var quantization = new QuantizeOptionSet();
        quantization.AddTo(command);
        command.Options.Add(source);
        command.Options.Add(name);
        command.SetAction(r => Quantize(r.GetRequiredValue(model), Outputs(r.GetRequiredValue(outputFile), r.GetValue(format), r.GetValue(qdqOutput), r.GetValue(qdqWeights)),
            r.GetValue(report), quantization.Calibration(r), quantization.Read(r), r.GetValue(source), r.GetValue(name), output));
        return command;
    }

    /// <summary>Where the artifact and the QDQ model go (either may be absent, not both), and the QDQ weight type.</summary>
    private sealed record OutputFiles(string? Artifact, string? Qdq, QdqWeightType QdqWeights);

    private static OutputFiles Outputs(string output, string? format, string? qdqOutput, string? qdqWeights)
    {
        var weights = QdqExporter.ParseWeightType(qdqWeights);
        return format?.ToLowerInvariant() switch
        {
            null or "" or "artifact" => new OutputFiles(output, qdqOutput, weights),
            "qdq" when qdqOutput is null => new OutputFiles(null, output, weights),
            "qdq" => throw new ModelException(ErrorCodes.InvalidOption, "--qdq-output is for --format artifact; with --format qdq, --output is the QDQ model."),
            _ => throw new ModelException(ErrorCodes.InvalidOption, $"--format {format}: expected artifact or qdq."),
        };
    }

    private static int Quantize(string path, OutputFiles outputs, string? reportFile, string[]? calibrationArgs, QuantizationOptions options, string? source, string? name, TextWriter output)
    {
        options.Validate();
        // Refused before quantizing, which can take minutes: the same QG0070 the exporter gives for such an artifact.
        if (outputs.Qdq is not null && options.ActivationBits != 8)
            throw new ModelException(ErrorCodes.NotExportableAsQdq, options.ActivationBits == 16 ? QdqExporter.SixteenBitMessage
                : $"QDQ export writes 8-bit activations only, and ActivationBits={options.ActivationBits} asks for {1 << options.ActivationBits} levels: a uint8 QuantizeLinear saturates at 255, not at {(1 << options.ActivationBits) - 1}, so ONNX Runtime would not compute what the generated class does. Export a model quantized with ActivationBits=8.", path);
        if (outputs.Qdq is not null && options.Compression != WeightCompression.None)
            throw new ModelException(ErrorCodes.NotExportableAsQdq, QdqExporter.FactorizedMessage, path);
        var (artifact, result) = Run(path, calibrationArgs, options, source, name, output);

        if (outputs.Artifact is not null) WriteAtomically(outputs.Artifact, ArtifactText.Write(artifact));
        var summary = result.Summary;
        if (outputs.Qdq is not null)
        {
            WriteAtomically(outputs.Qdq, QdqExporter.Export(artifact, outputs.QdqWeights, path));
            // On the one summary line: the build task keeps the last "quantgen: " line as its Summary.
            summary += $"; QDQ model {Path.GetFullPath(outputs.Qdq)} ({(outputs.QdqWeights == QdqWeightType.UInt8 ? "u8" : "s8")} weights, opset {QdqExporter.Opset})";
        }
        if (reportFile is not null)
        {
            // The HTML beside the Markdown (NAME.quant.md -> NAME.quant.html); the summary line points at it.
            var htmlFile = Path.ChangeExtension(reportFile, ".html");
            WriteAtomically(reportFile, result.ReportMarkdown);
            WriteAtomically(htmlFile, result.ReportHtml);
            summary += $"; report {Path.GetFullPath(htmlFile)}";
        }
        output.WriteLine($"quantgen: {QuantGen.Core.Artifact.SafeText.DiagnosticLine(summary)}");
        // MSBuild-style lines the build task turns into warnings (QuantGen.Build's QuantizeModel parses them).
        foreach (var warning in result.Warnings) output.WriteLine(warning.ToString());
        return 0;
    }

    /// <summary>Loads, calibrates and quantizes the model (the progress line on <paramref name="output"/>): what quantize and emit share.</summary>
    internal static (QuantizedArtifact Artifact, QuantizationResult Result) Run(string path, string[]? calibrationArgs, QuantizationOptions options, string? source, string? name, TextWriter output)
    {
        var model = OnnxModelLoader.Load(path, options.Budget);
        var calibration = LoadCalibration(model, path, calibrationArgs, options.Budget);
        var metadata = new List<ArtifactMetadata>
        {
            new("source", (source ?? path).Replace('\\', '/')),
            new("sourceSha256", Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)))),
            new("toolVersion", typeof(QuantizeCommand).Assembly.GetName().Version?.ToString() ?? "0"),
            new("calibration", calibrationArgs is { Length: > 0 } ? string.Join(";", calibrationArgs) : "none"),
        };
        var progress = new ProgressLine(output);
        QuantizationResult result;
        try
        {
            result = ModelQuantizer.Quantize(model, options with { Progress = progress.Report }, calibration, metadata);
        }
        finally
        {
            progress.Finish();
        }
        return (name is null ? result.Artifact : result.Artifact with { ModelName = name }, result);
    }

    private static CalibrationSet? LoadCalibration(Model model, string path, string[]? args, ResourceBudget budget)
    {
        if (args is null || args.Length == 0) return null;
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var sources = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (inputName, file) in CommonOptions.Pairs(args, "--calibration"))
        {
            var target = inputName.Length > 0 ? inputName
                : model.Graph.Inputs.Count == 1 ? model.Graph.Inputs[0].Name
                : throw new ModelException(ErrorCodes.BadCalibration, $"The model has {model.Graph.Inputs.Count} inputs: name the calibration file of each (NAME=FILE.npy).", path);
            if (model.Graph.Inputs.All(i => i.Name != target))
                throw new ModelException(ErrorCodes.BadCalibration, $"Calibration names input '{target}', which the model does not have.", file);
            if (!File.Exists(file))
                throw new ModelException(ErrorCodes.BadCalibration, $"Calibration file '{file}' does not exist.", file);
            try
            {
                tensors[target] = Npy.Read(file, budget);
            }
            catch (ModelException e) when (e.Code != ErrorCodes.BudgetExceeded)
            {
                throw new ModelException(ErrorCodes.BadCalibration, e.Message, file);
            }
            sources[target] = file;
        }
        return new CalibrationSet(tensors, sources);
    }

    /// <summary>Write to a temporary file and rename, so an interrupted build never leaves half an artifact behind.</summary>
    internal static void WriteAtomically(string path, string text) => WriteAtomically(path, new System.Text.UTF8Encoding(false).GetBytes(text));

    private static void WriteAtomically(string path, byte[] bytes)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, path, overwrite: true);
    }
}
