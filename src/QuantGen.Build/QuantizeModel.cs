using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using QuantGen.Core.Artifact;

namespace QuantGen.Build;

/// <summary>
/// Quantizes one QuantModel item by running <c>dotnet QuantGen.Cli.dll quantize</c>. Checks the item's metadata
/// first (missing files, bad bit-widths are QG errors before anything runs), then turns the CLI's
/// "PATH: error QGnnnn: message" lines into MSBuild errors with code and file.
/// </summary>
public sealed partial class QuantizeModel : ToolTask
{
    private static readonly char[] Semicolon = [';'];
    private static readonly Regex DiagnosticLine = new(@"^(?<file>.*?): (?<kind>error|warning) (?<code>QG\d{4}): (?<message>.*)$", RegexOptions.CultureInvariant);

    /// <summary>The CLI's progress lines (QuantGen.Cli's ProgressLine).</summary>
    private const string ProgressPrefix = "quantgen progress: ";

    private readonly List<string> _unparsed = new();
    private bool _loggedError;

    /// <summary>The model file (full path).</summary>
    [Required]
    public string ModelPath { get; set; } = "";

    /// <summary>The model path as the project names it (recorded in the artifact, matched by [QuantizedModel]).</summary>
    public string Source { get; set; } = "";

    [Required]
    public string ArtifactPath { get; set; } = "";

    public string ReportPath { get; set; } = "";

    /// <summary>"FILE.npy" or "NAME=FILE.npy;NAME2=FILE2.npy", paths relative to the project; empty for data-free.</summary>
    public string Calibration { get; set; } = "";

    /// <summary>Unlabeled inputs for Algorithms "finetune": FILE.npy or NAME=FILE.npy;… relative to the project (default: the calibration data).</summary>
    public string TrainingData { get; set; } = "";

    public string WeightBits { get; set; } = "8";

    public string ActivationBits { get; set; } = "8";

    public string BatchSize { get; set; } = "1";

    /// <summary>Whole shape of the only input ("1,3,48,192"); the CLI validates it.</summary>
    public string InputShape { get; set; } = "";

    /// <summary>Whole shapes by input ("x=1,3,48,192;state=2,1,64").</summary>
    public string InputShapes { get; set; } = "";

    /// <summary>Data-free: the inputs' range ("0,1" or "x=-1,1;y=0,1").</summary>
    public string InputRange { get; set; } = "";

    /// <summary>Data-free, instead of InputRange: the inputs' mean and standard deviation ("0.5" or "x=0.5;y=0").</summary>
    public string InputMean { get; set; } = "";

    public string InputStd { get; set; } = "";

    /// <summary>The post-training passes ("cle;bias-absorption;bias-correction;adaround", "none"; empty = the default pipeline). The CLI validates it.</summary>
    public string Algorithms { get; set; } = "";

    /// <summary>minmax, mse or percentile; empty = the default.</summary>
    public string RangeMethod { get; set; } = "";

    /// <summary>true or false; empty = true.</summary>
    public string PerChannel { get; set; } = "";

    /// <summary>"false" stops the build when a node has no quantized kernel (QG0024) instead of running it in float (QG0022).</summary>
    public string FloatFallback { get; set; } = "";

    /// <summary>"true" quantizes MatMuls of two computed tensors (attention's Q·Kᵀ); empty or "false" keeps them in float.</summary>
    public string QuantizedAttention { get; set; } = "";

    /// <summary>ONNX node names to keep in float, "name1;name2" (a trailing '*' matches a prefix); the CLI checks them (QG0028).</summary>
    public string FloatNodes { get; set; } = "";

    /// <summary>AdaRound steps per layer; empty = the default.</summary>
    public string AdaRoundIterations { get; set; } = "";

    /// <summary>none or factorized; empty = none. This and the four below are validated by the CLI (QG0015).</summary>
    public string Compression { get; set; } = "";

    /// <summary>Factorized: the target float32 / stored weight bytes ratio.</summary>
    public string CompressionRatio { get; set; } = "";

    /// <summary>Factorized with explicit factors: the rank.</summary>
    public string FactorRank { get; set; } = "";

    /// <summary>Factorized: the fraction of each factor row set to zero.</summary>
    public string FactorSparsity { get; set; } = "";

    /// <summary>Factorized: the factors' bit-width.</summary>
    public string FactorBits { get; set; } = "";

    /// <summary>Mixed precision (HAWQ-V2): the largest weight bytes ("48KB"); validated by the CLI (QG0091).</summary>
    public string SizeBudget { get; set; } = "";

    /// <summary>Mixed precision: the largest mean weight width ("4.5").</summary>
    public string AverageWeightBits { get; set; } = "";

    /// <summary>The first / last weighted layer's pinned width (2 to 8); empty = not pinned.</summary>
    public string FirstLayerWeightBits { get; set; } = "";

    public string LastLayerWeightBits { get; set; } = "";

    /// <summary>Where the QDQ model goes when <see cref="ExportQdq"/> is true (obj/.../quantgen/NAME.qdq.onnx).</summary>
    public string QdqPath { get; set; } = "";

    /// <summary>true: also export the quantization as a QDQ ONNX model (docs/interop.md); empty or false: not.</summary>
    public string ExportQdq { get; set; } = "";

    /// <summary>u8 or s8: how the QDQ model stores the weights; empty = u8. The CLI validates it.</summary>
    public string QdqWeights { get; set; } = "";

    /// <summary>An AIMET encodings JSON, relative to the project; empty = none (docs/interop.md).</summary>
    public string Encodings { get; set; } = "";
    /// <summary>Resource budget (docs/security.md); empty: the default.</summary>
    public string MaxTensorElements { get; set; } = "";

    public string MaxActivationBytes { get; set; } = "";

    public string MaxParameters { get; set; } = "";

    public string MaxNodes { get; set; } = "";

    /// <summary>The project folder, against which relative calibration paths resolve.</summary>
    [Required]
    public string ProjectDirectory { get; set; } = "";

    /// <summary>QuantGen.Cli.dll.</summary>
    [Required]
    public string CliPath { get; set; } = "";

    /// <summary>The dotnet host running the CLI (MSBuild's DOTNET_HOST_PATH when empty, then dotnet on PATH).</summary>
    public string DotnetHostPath { get; set; } = "";

    /// <summary>The CLI's "quantgen: ..." summary line.</summary>
    [Output]
    public string Summary { get; private set; } = "";

    protected override string ToolName => "dotnet";

    protected override string GenerateFullPathToTool()
    {
        if (!string.IsNullOrEmpty(DotnetHostPath)) return DotnetHostPath;
        var fromMsBuild = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return string.IsNullOrEmpty(fromMsBuild) ? "dotnet" : fromMsBuild!;
    }

    protected override bool ValidateParameters()
    {
        if (!File.Exists(ModelPath))
            Error("QG0001", ModelPath, $"Model file '{ModelPath}' does not exist.");
        foreach (var (name, file) in CalibrationFiles())
            if (!File.Exists(file))
                Error("QG0016", ModelPath, $"Calibration file '{file}'{(name.Length > 0 ? $" (input '{name}')" : "")} does not exist.");
        CheckInt("WeightBits", WeightBits, 2, 8, "2 to 8");
        if (ActivationBits != "16")
            CheckInt("ActivationBits", ActivationBits, 3, 8, "3 to 8 or 16");
        foreach (var (name, file) in TrainingDataFiles())
            if (!File.Exists(file))
                Error("QG0096", ModelPath, $"Training data file '{file}'{(name.Length > 0 ? $" (input '{name}')" : "")} does not exist.");
        CheckInt("BatchSize", BatchSize, 1, 4096, "1 to 4096");
        if (!string.IsNullOrWhiteSpace(ExportQdq) && !string.Equals(ExportQdq.Trim(), "true", StringComparison.OrdinalIgnoreCase) && !string.Equals(ExportQdq.Trim(), "false", StringComparison.OrdinalIgnoreCase))
            Error("QG0015", ModelPath, $"ExportQdq=\"{ExportQdq}\" is not supported: use true or false.");
        if (!string.IsNullOrWhiteSpace(Encodings) && !File.Exists(Path.Combine(ProjectDirectory, Encodings.Trim())))
            Error("QG0001", ModelPath, $"Encodings file '{Encodings.Trim()}' does not exist.");
        if (!File.Exists(CliPath))
            Error("QG9999", ModelPath, $"The QuantGen CLI '{CliPath}' is missing: the package is incomplete or QuantGenCliPath is wrong.");
        return !_loggedError;
    }

    /// <summary>Calibration entries as (input name or "", full path).</summary>
    internal IEnumerable<(string Name, string File)> CalibrationFiles() => Files(Calibration);

    /// <summary>TrainingData entries as (input name or "", full path).</summary>
    internal IEnumerable<(string Name, string File)> TrainingDataFiles() => Files(TrainingData);

    private IEnumerable<(string Name, string File)> Files(string setting)
    {
        foreach (var entry in setting.Split(Semicolon, StringSplitOptions.RemoveEmptyEntries))
        {
            var trimmed = entry.Trim();
            int eq = trimmed.IndexOf('=');
            var name = eq < 0 ? "" : trimmed.Substring(0, eq).Trim();
            var file = eq < 0 ? trimmed : trimmed.Substring(eq + 1).Trim();
            yield return (name, Path.GetFullPath(Path.Combine(ProjectDirectory, file)));
        }
    }

    private void CheckInt(string name, string value, int min, int max, string allowed)
    {
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v < min || v > max)
            Error("QG0015", ModelPath, $"{name}=\"{value}\" is not supported: use {allowed}.");
    }

    protected override string GenerateCommandLineCommands()
    {
        var args = new CommandLineBuilder();
        args.AppendFileNameIfNotNull(CliPath);
        args.AppendSwitch("quantize");
        args.AppendFileNameIfNotNull(ModelPath);
        args.AppendSwitchIfNotNull("--output ", ArtifactPath);
        if (!string.IsNullOrEmpty(ReportPath)) args.AppendSwitchIfNotNull("--report ", ReportPath);
        foreach (var (name, file) in CalibrationFiles())
            args.AppendSwitchIfNotNull("--calibration ", name.Length > 0 ? $"{name}={file}" : file);
        foreach (var (name, file) in TrainingDataFiles())
            args.AppendSwitchIfNotNull("--training-data ", name.Length > 0 ? $"{name}={file}" : file);
        args.AppendSwitchIfNotNull("--weight-bits ", WeightBits);
        args.AppendSwitchIfNotNull("--activation-bits ", ActivationBits);
        args.AppendSwitchIfNotNull("--batch ", BatchSize);
        if (!string.IsNullOrWhiteSpace(Algorithms)) args.AppendSwitchIfNotNull("--algorithms ", Algorithms.Trim());
        if (!string.IsNullOrWhiteSpace(RangeMethod)) args.AppendSwitchIfNotNull("--range-method ", RangeMethod.Trim());
        if (!string.IsNullOrWhiteSpace(PerChannel)) args.AppendSwitchIfNotNull("--per-channel ", PerChannel.Trim());
        if (!string.IsNullOrWhiteSpace(FloatFallback)) args.AppendSwitchIfNotNull("--float-fallback ", FloatFallback.Trim());
        if (!string.IsNullOrWhiteSpace(QuantizedAttention)) args.AppendSwitchIfNotNull("--quantized-attention ", QuantizedAttention.Trim());
        foreach (var floatNode in FloatNodes.Split(Semicolon, StringSplitOptions.RemoveEmptyEntries).Select(n => n.Trim()).Where(n => n.Length > 0).Distinct(StringComparer.Ordinal))
            args.AppendSwitchIfNotNull("--float-nodes ", floatNode);
        if (!string.IsNullOrWhiteSpace(AdaRoundIterations)) args.AppendSwitchIfNotNull("--adaround-iterations ", AdaRoundIterations.Trim());
        AppendIfSet(args, "--input-shape ", InputShape);
        foreach (var shape in InputShapes.Split(Semicolon, StringSplitOptions.RemoveEmptyEntries))
            AppendIfSet(args, "--input-shape ", shape);
        AppendIfSet(args, "--input-range ", InputRange);
        AppendIfSet(args, "--input-mean ", InputMean);
        AppendIfSet(args, "--input-std ", InputStd);
        AppendIfSet(args, "--compression ", Compression);
        AppendIfSet(args, "--compression-ratio ", CompressionRatio);
        AppendIfSet(args, "--factor-rank ", FactorRank);
        AppendIfSet(args, "--factor-sparsity ", FactorSparsity);
        AppendIfSet(args, "--factor-bits ", FactorBits);
        AppendIfSet(args, "--size-budget ", SizeBudget);
        AppendIfSet(args, "--average-weight-bits ", AverageWeightBits);
        AppendIfSet(args, "--first-layer-weight-bits ", FirstLayerWeightBits);
        AppendIfSet(args, "--last-layer-weight-bits ", LastLayerWeightBits);
        AppendFineTune(args); // QuantizeModel.FineTune.cs
        if (string.Equals(ExportQdq.Trim(), "true", StringComparison.OrdinalIgnoreCase) && !string.IsNullOrEmpty(QdqPath))
        {
            args.AppendSwitchIfNotNull("--qdq-output ", QdqPath);
            AppendIfSet(args, "--qdq-weights ", QdqWeights);
        }
        if (!string.IsNullOrWhiteSpace(Encodings)) args.AppendSwitchIfNotNull("--encodings ", Path.GetFullPath(Path.Combine(ProjectDirectory, Encodings.Trim())));
        AppendIfSet(args, "--max-tensor-elements ", MaxTensorElements);
        AppendIfSet(args, "--max-activation-bytes ", MaxActivationBytes);
        AppendIfSet(args, "--max-parameters ", MaxParameters);
        AppendIfSet(args, "--max-nodes ", MaxNodes);
        if (!string.IsNullOrEmpty(Source)) args.AppendSwitchIfNotNull("--source ", Source);
        return args.ToString();
    }

    private static void AppendIfSet(CommandLineBuilder args, string name, string value)
    {
        if (!string.IsNullOrWhiteSpace(value)) args.AppendSwitchIfNotNull(name, value.Trim());
    }

    protected override MessageImportance StandardOutputLoggingImportance => MessageImportance.Low;

    protected override void LogEventsFromTextOutput(string singleLine, MessageImportance messageImportance)
    {
        if (singleLine.StartsWith(ProgressPrefix, StringComparison.Ordinal))
        {
            // One line per finished layer, with the time so far: a long build shows it is not hung (normal verbosity).
            Log.LogMessage(MessageImportance.Normal, "quantgen: {0}: {1}", Path.GetFileNameWithoutExtension(ModelPath), singleLine.Substring(ProgressPrefix.Length));
            return;
        }
        if (singleLine.StartsWith("quantgen: ", StringComparison.Ordinal))
        {
            Summary = singleLine;
            Log.LogMessage(MessageImportance.High, singleLine);
            return;
        }
        var match = DiagnosticLine.Match(singleLine);
        if (!match.Success)
        {
            if (singleLine.Trim().Length > 0) _unparsed.Add(singleLine);
            Log.LogMessage(MessageImportance.Low, singleLine);
            return;
        }
        var file = match.Groups["file"].Value;
        if (match.Groups["kind"].Value == "error")
            Error(match.Groups["code"].Value, file, match.Groups["message"].Value);
        else
            Log.LogWarning(null, match.Groups["code"].Value, null, SafeText.DiagnosticLine(file), 0, 0, 0, 0, SafeText.DiagnosticLine(match.Groups["message"].Value));
    }

    protected override bool HandleTaskExecutionErrors()
    {
        if (_loggedError) return false;
        // The CLI died without a diagnostic line (crash, missing runtime): one error with what it printed.
        var tail = _unparsed.Count > 0 ? " Its last output: " + string.Join(" | ", _unparsed.GetRange(Math.Max(0, _unparsed.Count - 5), Math.Min(5, _unparsed.Count))) : "";
        Error("QG9999", ModelPath, $"The QuantGen quantizer exited with code {ExitCode} without a diagnostic.{tail}");
        return false;
    }

    private void Error(string code, string file, string message)
    {
        _loggedError = true;
        // Names reach these messages (model paths, calibration input names): one line each, never a forged second one.
        Log.LogError(null, code, null, SafeText.DiagnosticLine(file), 0, 0, 0, 0, SafeText.DiagnosticLine(message));
    }
}
