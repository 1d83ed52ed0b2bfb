package org.mipflow.model;

import ai.djl.Device;

/**
 * Prints what decides the numerics on this machine: the CPU, the flags that give it native bf16,
 * and what {@code --precision auto --layout auto} resolves to there. udf/pom.xml runs it before the
 * tests, so every test log (CI's too) starts with it and a numerics failure on another machine can
 * be read off that log. Reads /proc/cpuinfo only; starts no engine.
 */
public final class NumericsReport {
    private NumericsReport() {}

    public static void main(String[] args) {
        Bf16Support.Verdict bf16 = Bf16Support.of(Device.cpu());
        System.out.println("numerics: CPU " + Bf16Support.thisCpu().describe());
        System.out.println("numerics: --precision auto --layout auto -> " + NumericPath.Request.AUTO.resolve(bf16.supported())
                + " on this CPU (" + bf16.reason() + "); bf16/nchw is refused on every device");
    }
}
