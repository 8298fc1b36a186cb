// The images a run logged (run.log_image: images/NAME.png), drawn one under another, each with
// its name: Evaluate Model's curves and confusion matrix. Read with the page's credentials.
import { useEffect, useState } from "react";
import { artifactUrl, getJson, query, request, runArtifacts, V1 } from "../api";
import { ErrorLine } from "./ErrorLine";

interface Drawn {
  name: string;
  url: string;
}

export function RunImages({ runId }: { runId: string }) {
  const [images, setImages] = useState<Drawn[]>([]);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let stopped = false;
    const made: string[] = [];
    const prefix = `${runArtifacts(runId)}/images`;
    getJson<{ files: string[] }>(`${V1}/artifact-list?${query({ prefix })}`)
      .then(async (listing) => {
        const drawn: Drawn[] = [];
        for (const file of listing.files.filter((f) => f.endsWith(".png")).sort()) {
          const blob = await (await request(artifactUrl(`${prefix}/${file}`))).blob();
          const url = URL.createObjectURL(blob);
          made.push(url);
          drawn.push({ name: file.replace(/\.png$/, ""), url });
        }
        if (!stopped) setImages(drawn);
      })
      .catch(setError);
    return () => {
      stopped = true;
      made.forEach((url) => URL.revokeObjectURL(url));
    };
  }, [runId]);
  return (
    <div className="run-images" data-testid="run-images">
      <ErrorLine error={error} />
      {images.map((image) => (
        <figure key={image.name} data-testid={`image-${image.name}`}>
          <figcaption>{image.name}</figcaption>
          <img src={image.url} alt={image.name} />
        </figure>
      ))}
    </div>
  );
}
