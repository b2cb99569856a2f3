#:project ../../../src/QuantGen.Onnx/QuantGen.Onnx.csproj
#:property TreatWarningsAsErrors=false
// Turns the clips listed by make_data.sh into the WakeWord sample's data, computed by QuantGen's float reference
// executor on openWakeWord's own models (tests/.data/openwakeword/models, from tests/setup.sh):
//   clips.npy                 [clips, frames, 32] float32: each clip's mel features, openWakeWord's scaling (x/10 + 2)
//   clips.tsv                 name and label (1 = "alexa") of each clip, in order
//   embedding_calibration.npy [N, 76, 32, 1]: mel windows for calibrating embedding_model
//   head_calibration.npy      [N, 16, 96]: float embedding sequences for calibrating alexa_v0.1
// Every clip is laid into 2.8 s of 16 kHz audio (int16 scale, as openWakeWord feeds its models): peak-normalised
// to 8000, ending 2.3 s in, over deterministic Gaussian noise (σ = 30). The sample and the tests evaluate windows
// starting at frame 0, 8, 16…; the calibration windows start half a hop later (frame 4, 12, …), so no evaluated
// window is a calibration window (they come from the same clips).
// Usage: dotnet run samples/WakeWord/Data/features.cs -- CLIPS.tsv OUTPUT_DIR   (make_data.sh does this)
using System.Globalization;
using QuantGen.Core.Execution;
using QuantGen.Core.IO;
using QuantGen.Core.Ir;
using QuantGen.Core.Passes;
using QuantGen.Onnx;

const int SampleRate = 16000, ClipSamples = 44800, EndSample = 36800, Peak = 8000, NoiseSigma = 30;
const int Window = 76, Hop = 8, Embeddings = 16, Dim = 96, Mels = 32;
const int EmbeddingCalibration = 32, HeadCalibration = 32;

var root = FindRoot();
var models = Path.Combine(root, "tests", ".data", "openwakeword", "models");
if (!File.Exists(Path.Combine(models, "embedding_model.onnx")))
{
    Console.Error.WriteLine($"{models} has no openWakeWord models: run tests/setup.sh first.");
    return 1;
}
var clips = File.ReadAllLines(args[0]).Where(l => l.Length > 0).Select(l => l.Split('\t')).ToArray();
var outDir = args[1];

var mel = new ReferenceExecutor(OnnxModelLoader.Load(Path.Combine(models, "melspectrogram.onnx")));
var embedding = new ReferenceExecutor(ModelPreparation.Prepare(OnnxModelLoader.Load(Path.Combine(models, "embedding_model.onnx"))));
var head = new ReferenceExecutor(ModelPreparation.Prepare(OnnxModelLoader.Load(Path.Combine(models, "alexa_v0.1.onnx"))));

var features = new List<float[]>();
int frames = 0;
for (int c = 0; c < clips.Length; c++)
{
    var audio = Layout(ReadWav(clips[c][2]), new Random(c + 1));
    var output = mel.Run(new Dictionary<string, Tensor> { ["input"] = Tensor.FromArray([1, audio.Length], audio) }).Single().Value;
    var spec = output.ToArray<float>();
    for (int i = 0; i < spec.Length; i++) spec[i] = spec[i] / 10f + 2f;
    frames = spec.Length / Mels;
    features.Add(spec);
}

// Float scores on the evaluated windows (offset 0), to see what the head does with these clips.
Console.WriteLine($"{clips.Length} clips of {frames} mel frames; float alexa_v0.1 score per head window (offset 0):");
for (int c = 0; c < clips.Length; c++)
{
    var emb = Embed(features[c], 0);
    var scores = Enumerable.Range(0, emb.Count - Embeddings + 1).Select(w => Score(emb, w)).ToArray();
    Console.WriteLine($"  {clips[c][0],-18} label {clips[c][1]}  max {scores.Max():F3}  [{string.Join(" ", scores.Select(s => s.ToString("F2", CultureInfo.InvariantCulture)))}]");
}

// Calibration: windows half a hop off the evaluated ones, spread evenly over all clips.
var melWindows = new List<float[]>();
var headWindows = new List<float[]>();
for (int c = 0; c < clips.Length; c++)
{
    var emb = Embed(features[c], Hop / 2);
    for (int start = Hop / 2; start + Window <= frames; start += Hop) melWindows.Add(features[c].AsSpan(start * Mels, Window * Mels).ToArray());
    for (int w = 0; w + Embeddings <= emb.Count; w++) headWindows.Add(emb.Skip(w).Take(Embeddings).SelectMany(e => e).ToArray());
}
var melCalibration = Spread(melWindows, EmbeddingCalibration);
var headCalibration = Spread(headWindows, HeadCalibration);

Npy.Write(Path.Combine(outDir, "clips.npy"), Tensor.FromArray([clips.Length, frames, Mels], features.SelectMany(f => f).ToArray()));
File.WriteAllLines(Path.Combine(outDir, "clips.tsv"), clips.Select(c => $"{c[0]}\t{c[1]}"));
Npy.Write(Path.Combine(outDir, "embedding_calibration.npy"), Tensor.FromArray([melCalibration.Count, Window, Mels, 1], melCalibration.SelectMany(w => w).ToArray()));
Npy.Write(Path.Combine(outDir, "head_calibration.npy"), Tensor.FromArray([headCalibration.Count, Embeddings, Dim], headCalibration.SelectMany(w => w).ToArray()));
Console.WriteLine($"wrote {outDir}: clips.npy, clips.tsv, embedding_calibration.npy ({melCalibration.Count} windows), head_calibration.npy ({headCalibration.Count} sequences)");
return 0;

// The embeddings of every window starting at offset, offset + Hop, ...
List<float[]> Embed(float[] spec, int offset)
{
    var result = new List<float[]>();
    for (int start = offset; start + Window <= spec.Length / Mels; start += Hop)
    {
        var window = spec.AsSpan(start * Mels, Window * Mels).ToArray();
        result.Add(embedding.Run(new Dictionary<string, Tensor> { ["input_1"] = Tensor.FromArray([1, Window, Mels, 1], window) }).Single().Value.ToArray<float>());
    }
    return result;
}

float Score(List<float[]> emb, int first)
{
    var input = emb.Skip(first).Take(Embeddings).SelectMany(e => e).ToArray();
    return head.Run(new Dictionary<string, Tensor> { ["onnx::Flatten_0"] = Tensor.FromArray([1, Embeddings, Dim], input) }).Single().Value.ToArray<float>()[0];
}

static List<float[]> Spread(List<float[]> items, int count) =>
    Enumerable.Range(0, Math.Min(count, items.Count)).Select(i => items[(int)((long)i * items.Count / Math.Min(count, items.Count))]).ToList();

static float[] Layout(float[] speech, Random random)
{
    float peak = speech.Max(MathF.Abs);
    float gain = peak > 0 ? Peak / peak : 0;
    var audio = new float[ClipSamples];
    int start = EndSample - speech.Length;
    for (int i = 0; i < audio.Length; i++)
    {
        // Box-Muller on the seeded generator: the same noise on every machine.
        double u1 = 1 - random.NextDouble(), u2 = random.NextDouble();
        double noise = NoiseSigma * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        int s = i - start;
        audio[i] = (float)Math.Round((s >= 0 && s < speech.Length ? speech[s] * gain : 0) + noise);
    }
    return audio;
}

// 16-bit PCM mono WAV (what sox writes): the samples as floats on the int16 scale.
static float[] ReadWav(string path)
{
    var bytes = File.ReadAllBytes(path);
    int pos = 12;
    while (pos + 8 <= bytes.Length)
    {
        var id = System.Text.Encoding.ASCII.GetString(bytes, pos, 4);
        int size = BitConverter.ToInt32(bytes, pos + 4);
        if (id == "fmt ")
        {
            int channels = BitConverter.ToInt16(bytes, pos + 10), rate = BitConverter.ToInt32(bytes, pos + 12), bits = BitConverter.ToInt16(bytes, pos + 22);
            if (channels != 1 || rate != SampleRate || bits != 16) throw new InvalidDataException($"{path}: need 16 kHz mono 16-bit, got {rate} Hz, {channels} channels, {bits} bits");
        }
        else if (id == "data")
        {
            size = Math.Min(size, bytes.Length - pos - 8);
            var samples = new float[size / 2];
            for (int i = 0; i < samples.Length; i++) samples[i] = BitConverter.ToInt16(bytes, pos + 8 + 2 * i);
            if (samples.Length > EndSample) throw new InvalidDataException($"{path}: longer than {EndSample / (double)SampleRate} s");
            return samples;
        }
        pos += 8 + size + (size & 1);
    }
    throw new InvalidDataException($"{path}: no data chunk");
}

static string FindRoot()
{
    for (var d = new DirectoryInfo(Directory.GetCurrentDirectory()); d is not null; d = d.Parent)
        if (File.Exists(Path.Combine(d.FullName, "QuantGen.sln"))) return d.FullName;
    throw new InvalidOperationException("Run from inside the QuantGen repository.");
}
