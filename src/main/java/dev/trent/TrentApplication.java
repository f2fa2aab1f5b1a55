package dev.trent;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

import dev.trent.cli.AuditCli;
import dev.trent.cli.CaCli;
import dev.trent.cli.TrainCli;

/**
 * Trent, a private certificate authority for device fleets. {@code java -jar trent.jar} runs the
 * service; {@code java -jar trent.jar ca ...} runs the offline key ceremony and
 * {@code java -jar trent.jar audit verify ...} checks the audit log, without starting it (both
 * command lines parsed by picocli; {@code ca help} and {@code audit help verify} list their options);
 * {@code java -jar trent.jar train} is a training run for a JVM AOT cache on a throwaway instance.
 */
@SpringBootApplication
public class TrentApplication {

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("ca")) {
            System.exit(CaCli.run(java.util.Arrays.copyOfRange(args, 1, args.length), System.out, System.err));
        }
        if (args.length > 0 && args[0].equals("audit")) {
            System.exit(AuditCli.run(java.util.Arrays.copyOfRange(args, 1, args.length), System.out, System.err));
        }
        if (args.length > 0 && args[0].equals("train")) {
            System.exit(TrainCli.run(java.util.Arrays.copyOfRange(args, 1, args.length), System.out, System.err,
                    TrentApplication.class));
        }
        SpringApplication.run(TrentApplication.class, args);
    }
}
