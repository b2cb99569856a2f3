using System.Numerics;
using System.Numerics.Tensors;

namespace QuantGen.Core.Training;

/// <summary>Label-free distillation losses: the student's output against the float teacher's, each with its gradient.</summary>
internal static class DistillationLoss
{
    /// <summary>Mean squared error over the elements: L = Σ (y − t)² / N, ∂L/∂y = 2 (y − t) / N.</summary>
    public static (double Loss, T[] Gradient) MeanSquaredError<T>(T[] student, T[] teacher) where T : IFloatingPointIeee754<T>
    {
        var gradient = new T[student.Length];
        double loss = 0;
        T twoOverN = T.CreateChecked(2.0 / student.Length);
        for (int i = 0; i < student.Length; i++)
        {
            T d = student[i] - teacher[i];
            loss += double.CreateChecked(d * d);
            gradient[i] = twoOverN * d;
        }
        return (loss / student.Length, gradient);
    }

    /// <summary>
    /// KL(softmax(teacher) ‖ softmax(student)) on logits, per row of <paramref name="classes"/>:
    /// L = Σ q (log q − log p), ∂L/∂z = p − q (p the student's, q the teacher's distribution).
    /// </summary>
    public static (double Loss, T[] Gradient) KullbackLeibler<T>(T[] studentLogits, T[] teacherLogits, int classes) where T : IFloatingPointIeee754<T> =>
        KullbackLeibler(studentLogits, teacherLogits, classes, T.One);

    /// <summary>
    /// The same at temperature τ (Hinton et al., "Distilling the knowledge in a neural network"): p = softmax(z/τ),
    /// q = softmax(t/τ), L = Σ q (log q − log p), ∂L/∂z = (p − q)/τ.
    /// </summary>
    public static (double Loss, T[] Gradient) KullbackLeibler<T>(T[] studentLogits, T[] teacherLogits, int classes, T temperature) where T : IFloatingPointIeee754<T>
    {
        var gradient = new T[studentLogits.Length];
        var p = new T[classes];
        var q = new T[classes];
        var zs = new T[classes];
        var zt = new T[classes];
        double loss = 0;
        for (int r = 0; r < studentLogits.Length; r += classes)
        {
            TensorPrimitives.Divide<T>(studentLogits.AsSpan(r, classes), temperature, zs);
            TensorPrimitives.Divide<T>(teacherLogits.AsSpan(r, classes), temperature, zt);
            TensorPrimitives.SoftMax<T>(zs, p);
            TensorPrimitives.SoftMax<T>(zt, q);
            T logSumP = LogSumExp<T>(zs), logSumQ = LogSumExp<T>(zt);
            for (int i = 0; i < classes; i++)
            {
                T logQ = zt[i] - logSumQ, logP = zs[i] - logSumP;
                loss += double.CreateChecked(q[i] * (logQ - logP));
                gradient[r + i] = (p[i] - q[i]) / temperature;
            }
        }
        return (loss, gradient);
    }

    private static T LogSumExp<T>(ReadOnlySpan<T> x) where T : IFloatingPointIeee754<T>
    {
        T max = TensorPrimitives.Max<T>(x), sum = T.Zero;
        foreach (var v in x) sum += T.Exp(v - max);
        return max + T.Log(sum);
    }
}
